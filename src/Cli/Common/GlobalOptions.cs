using System.CommandLine;

namespace OrleansMQ.Cli.Common;

/// <summary>
/// Options every command understands. They are recursive options of the root command, so they may be
/// written before or after the subcommand (<c>orleansmq --gateway h:30000 topic list</c> or
/// <c>orleansmq topic list --gateway h:30000</c>).
/// </summary>
internal static class GlobalOptions
{
    /// <summary>The gateway used when neither <c>--gateway</c> nor ORLEANSMQ_GATEWAY is given.</summary>
    public const string DefaultGateway = "127.0.0.1:30000";

    /// <summary>The environment variable that overrides <see cref="DefaultGateway"/>.</summary>
    public const string GatewayVariable = "ORLEANSMQ_GATEWAY";

    public static readonly Option<string> Gateway = new("--gateway", "-g")
    {
        Description = $"Broker gateway(s) to connect to, host:port[,host:port…]; ${GatewayVariable} overrides the default",
        HelpName = "host:port",
        Recursive = true,
        DefaultValueFactory = _ => DefaultGatewayFromEnvironment(),
    };

    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print Orleans client logs (Information and above) and full exception details on errors",
        Recursive = true,
    };

    public static readonly Option<Duration> ConnectTimeout = Durations.Option("--connect-timeout", TimeSpan.FromSeconds(10),
        "How long to keep trying to reach the broker before giving up (covers a silo that is still starting)", recursive: true);

    /// <summary>ORLEANSMQ_GATEWAY when set, else the local default.</summary>
    public static string DefaultGatewayFromEnvironment()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(GatewayVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultGateway : fromEnvironment.Trim();
    }
}
