using System.CommandLine;
using OrleansMQ.Client;

namespace OrleansMQ.Cli.Common;

/// <summary>
/// How every command runs: failures become the one error line of <see cref="CliErrors"/>, and commands that
/// talk to the broker get a connection made from <c>--gateway</c> with the CLI's quiet logging.
/// </summary>
internal static class CommandActions
{
    /// <summary>Runs <paramref name="action"/> with error reporting; it returns the exit code.</summary>
    public static void SetCliAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await action(parse, cancellationToken);
            }
            catch (Exception e)
            {
                return CliErrors.Report(e, parse.GetValue(GlobalOptions.Verbose), cancellationToken);
            }
        });

    /// <summary>
    /// Checks the arguments with <paramref name="validate"/> (so bad input fails at once, broker or not), connects
    /// to the broker, runs <paramref name="action"/> with error reporting, then closes the connection.
    /// </summary>
    public static void SetBrokerAction(this Command command, Action<ParseResult> validate, Func<ParseResult, OrleansMQConnection, CancellationToken, Task<int>> action) =>
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            validate(parse);
            await using var connection = await ConnectAsync(parse, cancellationToken);
            return await action(parse, connection, cancellationToken);
        });

    /// <summary>Connects to the gateways of <c>--gateway</c>.</summary>
    public static Task<OrleansMQConnection> ConnectAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var options = new OrleansMQConnectionOptions
        {
            Gateways = parse.GetValue(GlobalOptions.Gateway) ?? GlobalOptions.DefaultGatewayFromEnvironment(),
            ConnectTimeout = parse.GetValue(GlobalOptions.ConnectTimeout).Value,
        };
        if (options.ConnectTimeout <= TimeSpan.Zero)
        {
            throw CliErrors.BadArgument("--connect-timeout must be positive");
        }
        return OrleansMQConnection.ConnectAsync(options, new CliLogging(parse.GetValue(GlobalOptions.Verbose)), cancellationToken);
    }
}
