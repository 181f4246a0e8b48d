using Microsoft.Extensions.Logging;

namespace OrleansMQ.Cli.Common;

/// <summary>
/// The Orleans client's logs, kept off stdout so scripts can parse it: Warning and above (Information with
/// <c>--verbose</c>) as one line each on stderr, exception details only with <c>--verbose</c>.
/// </summary>
internal sealed class CliLogging : ILoggerProvider, ILoggerFactory
{
    // Failures these categories log (connection attempts, the client host failing to start) are also thrown to
    // the command, which prints them once as its error line; without --verbose they would repeat it many times.
    private static readonly string[] ReportedByCaller =
    [
        "OrleansMQ.Client.OrleansMQConnection",
        "Orleans.Runtime.Messaging.ConnectionManager",
        "Microsoft.Extensions.Hosting.Internal.Host",
    ];

    private readonly bool _verbose;
    private readonly LogLevel _minimum;

    public CliLogging(bool verbose)
    {
        _verbose = verbose;
        _minimum = verbose ? LogLevel.Information : LogLevel.Warning;
    }

    public ILogger CreateLogger(string categoryName) =>
        !_verbose && ReportedByCaller.Contains(categoryName) ? new StderrLogger(categoryName, LogLevel.None, verbose: false)
        : new StderrLogger(categoryName, _minimum, _verbose);

    public void AddProvider(ILoggerProvider provider)
    {
        // The CLI has one sink on purpose; a provider added by a library would write around it.
    }

    public void Dispose()
    {
    }

    private sealed class StderrLogger(string category, LogLevel minimum, bool verbose) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var line = $"{Label(logLevel)}: {category}: {formatter(state, exception).ReplaceLineEndings(" ")}";
            if (exception is not null)
            {
                line += verbose ? Environment.NewLine + exception : $" ({exception.GetType().Name}: {FirstLine(exception.Message)})";
            }
            Console.Error.WriteLine(line);
        }

        // Some Orleans exceptions embed their inner exception's stack trace in the message.
        private static string FirstLine(string message)
        {
            var end = message.IndexOfAny(['\r', '\n']);
            return end < 0 ? message : message[..end];
        }

        private static string Label(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
