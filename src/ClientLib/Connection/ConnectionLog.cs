using Microsoft.Extensions.Logging;

namespace OrleansMQ.Client;

internal static partial class ConnectionLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Connecting to the OrleansMQ broker at {Gateways} (cluster {ClusterId})")]
    public static partial void Connecting(this ILogger logger, string gateways, string clusterId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Connected to the OrleansMQ broker at {Gateways}")]
    public static partial void Connected(this ILogger logger, string gateways);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Connection attempt {Attempt} to {Gateways} failed ({Reason}); retrying for another {Remaining}")]
    public static partial void ConnectAttemptFailed(this ILogger logger, int attempt, string gateways, string reason, TimeSpan remaining);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Could not reach the OrleansMQ broker at {Gateways}")]
    public static partial void ConnectFailed(this ILogger logger, Exception exception, string gateways);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Stopping the Orleans client failed")]
    public static partial void StopFailed(this ILogger logger, Exception exception);
}
