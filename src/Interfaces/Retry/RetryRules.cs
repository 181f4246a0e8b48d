using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Retry;

/// <summary>RocketMQ's retry rules, shared by consumers and the broker.</summary>
public static class RetryRules
{
    /// <summary>Deliveries after the first one before a message goes to the dead-letter queue (RocketMQ: 16).</summary>
    public const int DefaultMaxReconsumeTimes = 16;

    /// <summary>Largest maxReconsumeTimes a group may set.</summary>
    public const int MaxMaxReconsumeTimes = 64;

    /// <summary>Whether a topic is a group's retry topic.</summary>
    public static bool IsRetryTopic(string topic) => topic.StartsWith(Names.RetryGroupTopicPrefix, StringComparison.Ordinal);

    /// <summary>Whether a topic is a group's dead-letter topic.</summary>
    public static bool IsDlqTopic(string topic) => topic.StartsWith(Names.DlqGroupTopicPrefix, StringComparison.Ordinal);

    /// <summary>The topic the message was first consumed from (the retry topic's message carries it in <see cref="MessageConst.RetryTopic"/>).</summary>
    public static string OriginalTopic(MessageExt message) => message.GetProperty(MessageConst.RetryTopic) ?? message.Topic;

    /// <summary>
    /// The message as a handler sees it (RocketMQ's resetRetryAndNamespace): a message from the retry topic shows
    /// its original topic. <see cref="MessageExt.Queue"/>, queue id and offset stay those of the retry queue it was pulled from.
    /// </summary>
    public static MessageExt AsDelivered(MessageExt message) =>
        IsRetryTopic(message.Topic) && message.GetProperty(MessageConst.RetryTopic) is { } original
            ? message with { Topic = original, Queue = message.Queue }
            : message;

    /// <summary>Throws InvalidArgument unless 0 ≤ <paramref name="maxReconsumeTimes"/> ≤ <see cref="MaxMaxReconsumeTimes"/>.</summary>
    public static void CheckMaxReconsumeTimes(int maxReconsumeTimes)
    {
        if (maxReconsumeTimes is < 0 or > MaxMaxReconsumeTimes)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"maxReconsumeTimes {maxReconsumeTimes} is out of range; allowed 0 to {MaxMaxReconsumeTimes} (RocketMQ's default is {DefaultMaxReconsumeTimes})");
        }
    }
}
