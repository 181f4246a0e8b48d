using Microsoft.Extensions.Logging;

namespace OrleansMQ.Client;

internal static partial class ProducerLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Send of {Messages} message(s) to {Queue} failed on attempt {Attempt} of {MaxAttempts} ({Reason}); retrying on {Where}")]
    public static partial void SendRetrying(this ILogger logger, int messages, string queue, int attempt, int maxAttempts, string reason, string where);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "One-way send of message {MsgId} to topic {Topic} failed; the message is lost")]
    public static partial void OneWayFailed(this ILogger logger, Exception exception, string msgId, string topic);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Refreshing the route of topic {Topic} failed ({Reason}); still using the previous route")]
    public static partial void RouteRefreshFailed(this ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "A send callback threw")]
    public static partial void CallbackFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Producer flushed its pending sends and closed")]
    public static partial void Closed(this ILogger logger);
}
