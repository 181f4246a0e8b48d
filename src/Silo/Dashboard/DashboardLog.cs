using Microsoft.Extensions.Logging;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>The web console's log lines.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Web console is off on this silo: the default HTTP port {Port} on {Address} is in use (another silo's console?); pass --http-port <free port> to serve it here too")]
    public static partial void DefaultPortTaken(ILogger logger, int port, string address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "HTTP API {Method} {Path} failed unexpectedly")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Console ({User}): {Action}")]
    public static partial void AdminAction(ILogger logger, string user, string action);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "Web console on {Address}:{Port} has no login: anyone who reaches the port can create and delete topics, send and reset offsets; give --console-users <users file>")]
    public static partial void OpenToNetwork(ILogger logger, string address, int port);
}
