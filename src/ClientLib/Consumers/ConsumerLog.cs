using Microsoft.Extensions.Logging;
using OrleansMQ.ConsumerGroups;

namespace OrleansMQ.Client;

internal static partial class ConsumerLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Consumer {ClientId} of group {Group} started, subscribed to {Subscriptions}")]
    public static partial void ConsumerStarted(this ILogger logger, string group, string clientId, string subscriptions);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Consumer {ClientId} of group {Group} stopped")]
    public static partial void ConsumerStopped(this ILogger logger, string group, string clientId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Group {Group} has no offset on {Queue}: starting at offset {Offset} ({ConsumeFromWhere})")]
    public static partial void StartingWithoutOffset(this ILogger logger, string group, string queue, long offset, ConsumeFromWhere consumeFromWhere);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Group {Group}: pull from {Queue} failed ({Reason}); retrying in {Backoff}")]
    public static partial void PullFailed(this ILogger logger, string group, string queue, string reason, TimeSpan backoff);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Group {Group}: offset {Offset} is outside {Queue} (min {MinOffset}, max {MaxOffset}); continuing from {NextOffset}")]
    public static partial void OffsetIllegal(this ILogger logger, string group, string queue, long offset, long nextOffset, long minOffset, long maxOffset);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Group {Group}: pulling from {Queue} paused by flow control: {Count} messages / {MiB} MiB cached and not yet consumed (pause #{Times})")]
    public static partial void FlowControl(this ILogger logger, string group, string queue, int count, long miB, long times);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Group {Group}: the message listener threw on {Queue} at offset {Offset}; the messages will be consumed again")]
    public static partial void ListenerThrew(this ILogger logger, Exception exception, string group, string queue, long offset);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Group {Group}: {Count} message(s) of {Queue} from offset {Offset} (first id {MsgId}) not consumed on attempt {Attempt}; " +
        "they stay in the process queue, holding back its committed offset, and are redelivered locally in {Delay} (the broker did not take them back)")]
    public static partial void ReconsumeLater(this ILogger logger, string group, int count, string queue, long offset, string msgId, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Group {Group}: message {MsgId} of {Queue} at offset {Offset} not consumed; sent back to {Target} (reconsumeTimes {ReconsumeTimes}, dead-lettered: {DeadLettered})")]
    public static partial void SentBack(this ILogger logger, string group, string msgId, string queue, long offset, int reconsumeTimes, string target, bool deadLettered);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Group {Group}: sending message {MsgId} of {Queue} back to the broker failed ({Reason}); it is redelivered locally instead")]
    public static partial void SendBackFailed(this ILogger logger, string group, string msgId, string queue, string reason);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Group {Group}: committing offset {Offset} on {Queue} failed ({Reason})")]
    public static partial void CommitFailed(this ILogger logger, string group, string queue, long offset, string reason);

    [LoggerMessage(EventId = 3090, Level = LogLevel.Warning, Message = "Group {Group}: offset {Offset} on {Queue} is outside the queue; the broker stored {Stored}")]
    public static partial void CommitClamped(this ILogger logger, string group, string queue, long offset, long stored);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Group {Group}: stopped waiting for {Running} running listener invocation(s); their messages stay uncommitted and will be delivered again")]
    public static partial void StopAbandonedListeners(this ILogger logger, string group, int running);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Group {Group}: listeners on revoked queue {Queue} are still running; committing without them (their messages will be delivered again to the new owner)")]
    public static partial void RevokedQueueListenersStillRunning(this ILogger logger, string group, string queue);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Group {Group} rebalanced: {ClientId} of {Clients} instance(s) now consumes [{Assignment}] of {Queues} queue(s); added [{Added}], removed [{Removed}]")]
    public static partial void Rebalanced(this ILogger logger, string group, string clientId, int clients, int queues, string assignment, string added, string removed);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Group {Group}: heartbeat or rebalance failed ({Reason}); keeping the current queues and retrying shortly")]
    public static partial void RebalanceFailed(this ILogger logger, Exception exception, string group, string reason);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Group {Group} subscribes to topic {Topic}, which is not available ({Reason}); its queues are assigned once it exists")]
    public static partial void SubscribedTopicMissing(this ILogger logger, string group, string topic, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Debug, Message = "Consumer {ClientId} left group {Group}")]
    public static partial void Unregistered(this ILogger logger, string clientId, string group);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Consumer {ClientId} could not leave group {Group} ({Reason}); the group drops it when its heartbeats stop")]
    public static partial void UnregisterFailed(this ILogger logger, string clientId, string group, string reason);
}
