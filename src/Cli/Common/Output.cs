using Spectre.Console;

namespace OrleansMQ.Cli.Common;

/// <summary>
/// Where commands write: results (tables, message lines) to stdout, progress and notes to stderr, so
/// <c>orleansmq … | jq</c> and <c>orleansmq … &gt; file</c> see results only.
/// </summary>
internal static class Output
{
    // Spectre wraps tables at 80 columns when stdout is not a terminal; a pipe or file has no width to respect.
    private const int RedirectedWidth = 240;

    private static readonly Lazy<TextWriter> StdoutWriter = new(OpenStdout);
    // Spectre measures the terminal only through Console.Out; a terminal never closes like a pipe does.
    private static readonly Lazy<IAnsiConsole> StdoutConsole = new(() =>
        Console.IsOutputRedirected ? Create(StdoutWriter.Value, redirected: true) : Create(Console.Out, redirected: false));

    /// <summary>A result table on stdout.</summary>
    public static void Write(Table table)
    {
        try
        {
            StdoutConsole.Value.Write(table);
        }
        catch (IOException e)
        {
            throw new OutputClosedException(e);
        }
    }

    /// <summary>
    /// One result line on stdout, written through before this returns. Throws <see cref="OutputClosedException"/>
    /// when the reader went away (<c>orleansmq consume … | head</c>), so a consumer stops instead of committing
    /// messages nobody read.
    /// </summary>
    public static void Line(string text)
    {
        try
        {
            StdoutWriter.Value.WriteLine(text);
        }
        catch (IOException e)
        {
            throw new OutputClosedException(e);
        }
    }

    /// <summary>A note on stderr (progress, summaries), kept out of the results.</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);

    /// <summary>A table in the CLI's style.</summary>
    public static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)));
        }
        return table;
    }

    /// <summary>Right-aligns the given columns (numbers).</summary>
    public static Table RightAligned(this Table table, params int[] columns)
    {
        foreach (var column in columns)
        {
            table.Columns[column].RightAligned();
        }
        return table;
    }

    /// <summary>Adds a row of plain (escaped) cells.</summary>
    public static Table AddPlainRow(this Table table, params string?[] cells)
    {
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c ?? "")).ToArray());
        return table;
    }

    /// <summary>A time as the tables show it: UTC, to the millisecond.</summary>
    public static string Time(DateTimeOffset? time) => time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture) : "-";

    // Console.Out ignores EPIPE on Unix (a closed pipe swallows output silently); a plain stream over fd 1 reports it.
    // Only for pipes and terminals: on a regular file a FileStream writes at its own position, not the shared one.
    private static TextWriter OpenStdout()
    {
        if (!OperatingSystem.IsWindows())
        {
            var direct = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            if (!direct.CanSeek)
            {
                return WriterOver(direct);
            }
            direct.Dispose();
        }
        return WriterOver(Console.OpenStandardOutput());

        static StreamWriter WriterOver(Stream stream) =>
            new(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
    }

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = RedirectedWidth;
        }
        return console;
    }
}

/// <summary>Stdout was closed by its reader; the command stops as if it had been told to.</summary>
internal sealed class OutputClosedException(IOException inner) : IOException("stdout was closed by its reader", inner);
