using Microsoft.Extensions.Logging;

namespace OrleansMQ.Client;

internal static partial class OrderlyLog
{
    [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "Group {Group}: locking {Queue} failed ({Reason}); trying again shortly")]
    public static partial void LockFailed(this ILogger logger, string group, string queue, string reason);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Group {Group}: unlocking {Queue} failed ({Reason}); its lease runs out instead")]
    public static partial void UnlockFailed(this ILogger logger, string group, string queue, string reason);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Group {Group}: the lock of {Queue} was not renewed; orderly consumption of it stops until it is locked again")]
    public static partial void LockLost(this ILogger logger, string group, string queue);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Group {Group}: orderly listener did not consume {Queue} offset {Offset} (msgId {MsgId}, failure {Failures}); the queue is suspended for {Suspend}, then the same message is delivered again")]
    public static partial void OrderlySuspended(this ILogger logger, string group, string queue, long offset, string msgId, int failures, TimeSpan suspend);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "Group {Group}: the orderly listener threw on {Queue} at offset {Offset}; treated as SuspendCurrentQueueAMoment")]
    public static partial void OrderlyListenerThrew(this ILogger logger, Exception exception, string group, string queue, long offset);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Error, Message = "Group {Group}: {Queue} offset {Offset} (msgId {MsgId}) failed {Failures} times, more than maxReconsumeTimes {Max}. " +
        "A broadcasting consumer has no dead-letter queue, so it keeps retrying it in place and the queue stays blocked behind it")]
    public static partial void OrderlyMaxReconsumeTimesExceeded(this ILogger logger, string group, string queue, long offset, string msgId, int failures, int max);

    [LoggerMessage(EventId = 3206, Level = LogLevel.Warning, Message = "Group {Group}: the orderly listener on revoked queue {Queue} is still running; keeping its lock until it ends (the new owner waits)")]
    public static partial void RevokedOrderlyListenerStillRunning(this ILogger logger, string group, string queue);

    [LoggerMessage(EventId = 3207, Level = LogLevel.Information, Message = "Group {Group}: handed over {Queue} at offset {Offset} (in-flight message finished, offset flushed, lock released)")]
    public static partial void HandedOver(this ILogger logger, string group, string queue, long offset);

    [LoggerMessage(EventId = 3208, Level = LogLevel.Warning, Message = "Group {Group}: renewing the orderly locks failed ({Reason}); consuming on until they run out")]
    public static partial void RenewFailed(this ILogger logger, string group, string reason);

    [LoggerMessage(EventId = 3209, Level = LogLevel.Warning, Message = "Group {Group}: {Count} message(s) at {Queue} offset {Offset} failed {Failures} times, more than maxReconsumeTimes; moved to the group's dead-letter queue and the queue goes on")]
    public static partial void OrderlyDeadLettered(this ILogger logger, string group, string queue, long offset, int count, int failures);

    [LoggerMessage(EventId = 3210, Level = LogLevel.Warning, Message = "Group {Group}: moving {Queue} offset {Offset} to the dead-letter queue failed; retrying it in place")]
    public static partial void OrderlyDeadLetterFailed(this ILogger logger, Exception exception, string group, string queue, long offset);
}
