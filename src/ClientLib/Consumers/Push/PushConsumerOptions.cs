using OrleansMQ.ConsumerGroups;

namespace OrleansMQ.Client;

/// <summary>Settings of a <see cref="PushConsumer"/>; the defaults match RocketMQ's DefaultMQPushConsumer.</summary>
public sealed class PushConsumerOptions : ConsumerOptions
{
    /// <summary>
    /// Clustering (each message to one instance of the group) or broadcasting (every instance gets every message and
    /// keeps its own offsets under <see cref="ConsumerOptions.InstanceName"/>). Default clustering.
    /// </summary>
    public MessageModel MessageModel { get; set; } = MessageModel.Clustering;

    /// <summary>Most listener invocations running at once. Default 20, as RocketMQ's consumeThreadMin.</summary>
    public int ConsumeThreadCount { get; set; } = 20;

    /// <summary>Most messages handed to one listener invocation. Default 1.</summary>
    public int ConsumeMessageBatchMaxSize { get; set; } = 1;

    /// <summary>Pulling from a queue pauses while this many of its messages are cached and not yet consumed. Default 1000.</summary>
    public int PullThresholdForQueue { get; set; } = 1000;

    /// <summary>Pulling from a queue pauses while its cached messages take this many MiB (bodies plus properties). Default 100 MiB.</summary>
    public int PullThresholdSizeForQueue { get; set; } = 100;

    /// <summary>How long the broker holds a pull that found nothing before answering (long-polling). Default 15 s, as RocketMQ.</summary>
    public TimeSpan PullSuspendTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often consumed offsets are committed besides riding on each pull. Default 5 s, as RocketMQ's persistConsumerOffsetInterval.</summary>
    public TimeSpan PersistConsumerOffsetInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long an orderly queue waits after SuspendCurrentQueueAMoment (or a thrown exception) before the same messages
    /// come again. Default 1 s, as RocketMQ's suspendCurrentQueueTimeMillis.
    /// </summary>
    public TimeSpan SuspendCurrentQueueTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Deliveries after the first before a message the listener keeps failing goes to the group's dead-letter queue
    /// (<c>%DLQ%&lt;group&gt;</c>). -1 (default) means RocketMQ's defaults: 16 for concurrent consumption (retried
    /// through the group's retry topic with growing delays), no limit for orderly consumption (retried in place; the
    /// queue waits). Every instance of a group should use the same value.
    /// </summary>
    public int MaxReconsumeTimes { get; set; } = -1;

    /// <summary>The limit concurrent consumption sends with each send-back.</summary>
    internal int ConcurrentMaxReconsumeTimes => MaxReconsumeTimes < 0 ? Retry.RetryRules.DefaultMaxReconsumeTimes : MaxReconsumeTimes;

    /// <summary>Failures after which orderly consumption dead-letters a message; unlimited by default.</summary>
    internal int OrderlyMaxReconsumeTimes => MaxReconsumeTimes < 0 ? int.MaxValue : MaxReconsumeTimes;

    /// <summary>How often an orderly consumer renews its queue locks. Default 20 s, as RocketMQ's rebalance lock interval.</summary>
    public TimeSpan LockRenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How soon an orderly consumer tries again to lock an assigned queue another instance still holds, when no release was announced. Default 1 s.</summary>
    public TimeSpan LockRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal override MessageModel Model => MessageModel;

    /// <summary>Set at start when the registered listener is orderly.</summary>
    internal bool ConsumeOrderly { get; set; }

    internal override bool Orderly => ConsumeOrderly;

    internal long PullThresholdBytesForQueue => PullThresholdSizeForQueue * 1024L * 1024L;

    internal override void Validate()
    {
        base.Validate();
        Require(Enum.IsDefined(MessageModel), nameof(MessageModel), MessageModel, "Clustering or Broadcasting");
        Require(SuspendCurrentQueueTime >= TimeSpan.Zero && SuspendCurrentQueueTime <= TimeSpan.FromMinutes(30), nameof(SuspendCurrentQueueTime), SuspendCurrentQueueTime, "0 to 30 minutes");
        Require(MaxReconsumeTimes is >= -1 and <= Retry.RetryRules.MaxMaxReconsumeTimes, nameof(MaxReconsumeTimes), MaxReconsumeTimes,
            $"-1 (RocketMQ's defaults) or from 0 to {Retry.RetryRules.MaxMaxReconsumeTimes}");
        Require(LockRenewInterval >= TimeSpan.FromMilliseconds(100), nameof(LockRenewInterval), LockRenewInterval, "at least 100 ms");
        Require(LockRetryInterval >= TimeSpan.FromMilliseconds(10), nameof(LockRetryInterval), LockRetryInterval, "at least 10 ms");
        Require(ConsumeThreadCount is >= 1 and <= 1000, nameof(ConsumeThreadCount), ConsumeThreadCount, "from 1 to 1000");
        Require(ConsumeMessageBatchMaxSize is >= 1 and <= 1024, nameof(ConsumeMessageBatchMaxSize), ConsumeMessageBatchMaxSize, "from 1 to 1024");
        Require(PullThresholdForQueue is >= 1 and <= 65535, nameof(PullThresholdForQueue), PullThresholdForQueue, "from 1 to 65535");
        Require(PullThresholdSizeForQueue is >= 1 and <= 1024, nameof(PullThresholdSizeForQueue), PullThresholdSizeForQueue, "from 1 to 1024 (MiB)");
        // Orleans fails a grain call after its response timeout (30 s by default); a parked pull must answer well before.
        Require(PullSuspendTimeout >= TimeSpan.FromMilliseconds(100) && PullSuspendTimeout <= TimeSpan.FromSeconds(25),
            nameof(PullSuspendTimeout), PullSuspendTimeout, "from 100 ms to 25 s (below the Orleans response timeout)");
        Require(PersistConsumerOffsetInterval >= TimeSpan.FromMilliseconds(100), nameof(PersistConsumerOffsetInterval), PersistConsumerOffsetInterval, "at least 100 ms");
    }
}
