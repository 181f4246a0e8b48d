using System.Text;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace OrleansMQ.Cli.Common;

/// <summary>Process exit codes of every command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The broker (or Postgres) is unreachable, or something unexpected failed.</summary>
    public const int Failure = 1;

    /// <summary>Bad input: a malformed argument, or a typed refusal by the broker (invalid name, empty body, …).</summary>
    public const int BadInput = 2;

    /// <summary>Interrupted by Ctrl-C / SIGTERM before the command finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Stdout was closed by its reader (128 + SIGPIPE, as shells report it).</summary>
    public const int OutputClosed = 141;
}

/// <summary>
/// Turns any failure into the one line scripts and people read on stderr, <c>error: &lt;MQErrorCode&gt;: &lt;message&gt;</c>,
/// and the exit code: 2 for bad input and typed refusals, 1 when the broker is unavailable or something
/// unexpected failed. Stack traces only with <c>--verbose</c>.
/// </summary>
internal static partial class CliErrors
{
    /// <summary>A bad command-line argument, reported like a broker refusal of the same kind.</summary>
    public static MQException BadArgument(string message) => new(MQErrorCode.InvalidArgument, message);

    /// <summary>Prints the error line (and details with <paramref name="verbose"/>); returns the exit code.</summary>
    public static int Report(Exception exception, bool verbose, CancellationToken cancellationToken)
    {
        var error = Unwrap(exception);
        if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted");
            return ExitCodes.Interrupted;
        }

        if (error is OutputClosedException)
        {
            // Whoever closed the pipe is not reading an error line either; 141 is what a shell reports for SIGPIPE.
            return ExitCodes.OutputClosed;
        }

        var (code, message, exitCode) = Classify(error);
        Console.Error.WriteLine($"error: {code}: {OneLine(message)}");
        if (verbose)
        {
            Console.Error.WriteLine(Details(error));
        }
        else if (exitCode == ExitCodes.Failure && code is not nameof(MQErrorCode.BrokerUnavailable) and not nameof(MQErrorCode.StoreUnavailable))
        {
            Console.Error.WriteLine("(run again with --verbose for details)");
        }
        return exitCode;
    }

    /// <summary>The parse errors of a command line, as one error line; returns <see cref="ExitCodes.BadInput"/>.</summary>
    public static int ReportParseErrors(IEnumerable<string> errors, string commandPath)
    {
        var lines = errors.Select(e => Plain(OneLine(e).TrimEnd('.'))).Distinct().ToList();
        if (lines.Count > 1)
        {
            // "Required command was not provided" only restates the unrecognized word that caused it.
            lines.Remove("Required command was not provided");
        }
        var text = string.Join("; ", lines);
        Console.Error.WriteLine($"error: {MQErrorCode.InvalidArgument}: {text} (see '{commandPath} --help')");
        return ExitCodes.BadInput;
    }

    /// <summary>The parser's .NET type names in words: "as expected type 'System.Int32'" says what the option takes.</summary>
    private static string Plain(string error) => TypeName().Replace(error, m => m.Groups[1].Value switch
    {
        "Int32" or "Int64" or "Int16" => "as a whole number (too large, or not a number)",
        "Boolean" => "as true or false",
        "Double" or "Decimal" or "Single" => "as a number",
        var other => $"as a value of type {other}",
    });

    [System.Text.RegularExpressions.GeneratedRegex(@"as expected type 'System\.(?:Nullable`1\[System\.)?(\w+)\]?'")]
    private static partial System.Text.RegularExpressions.Regex TypeName();

    private static (string Code, string Message, int ExitCode) Classify(Exception error) => error switch
    {
        MQException mq => (mq.Code.ToString(), mq.Message, IsUnavailable(mq.Code) ? ExitCodes.Failure : ExitCodes.BadInput),
        // ClientLib translates transport failures itself; these catch whatever reaches the CLI untranslated.
        TimeoutException or OrleansMessageRejectionException or ConnectionFailedException or OrleansLifecycleCanceledException =>
            (nameof(MQErrorCode.BrokerUnavailable), $"the broker is unreachable ({error.Message})", ExitCodes.Failure),
        _ => ("Unexpected", $"{error.GetType().Name}: {error.Message}", ExitCodes.Failure),
    };

    private static bool IsUnavailable(MQErrorCode code) =>
        code is MQErrorCode.BrokerUnavailable or MQErrorCode.StoreUnavailable or MQErrorCode.StoreConflict or MQErrorCode.ClientNotStarted;

    private static Exception Unwrap(Exception exception) =>
        exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : exception;

    private static string OneLine(string message) =>
        string.Join(' ', message.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static string Details(Exception error)
    {
        var text = new StringBuilder();
        for (var e = error; e is not null; e = e.InnerException)
        {
            text.Append(e == error ? "  " : "  caused by ").Append(e.GetType().FullName).Append(": ").AppendLine(OneLine(e.Message));
            if (e.StackTrace is { } stack)
            {
                text.AppendLine(stack);
            }
        }
        return text.ToString().TrimEnd();
    }
}
