namespace OrleansMQ.Validation;

/// <summary>Defaults shared by client and broker. The broker's configured limits win when they differ.</summary>
public static class Limits
{
    /// <summary>RocketMQ's maximum topic / group name length.</summary>
    public const int MaxNameLength = 127;

    /// <summary>Default maximum body size: 4 MiB, as RocketMQ's maxMessageSize.</summary>
    public const int DefaultMaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>Maximum total size of one batch send (bodies plus properties), as RocketMQ.</summary>
    public const int DefaultMaxBatchBytes = 4 * 1024 * 1024;

    /// <summary>Maximum total size of a message's user properties (keys plus values, UTF-8).</summary>
    public const int MaxPropertiesBytes = 32 * 1024;

    /// <summary>Maximum length of a tag or of one business key.</summary>
    public const int MaxTagLength = 127;

    /// <summary>Maximum number of queues a topic may have.</summary>
    public const int MaxQueues = 1024;

    /// <summary>Queue count of auto-created topics (RocketMQ's defaultTopicQueueNums).</summary>
    public const int DefaultQueues = 4;
}
