using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansMQ.Cli.Common;

/// <summary>One JSON object per stdout line (<c>--json</c>), for <c>jq</c> and scripts.</summary>
internal static class JsonLine
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Bodies are printed as written (non-ASCII kept), still valid JSON.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the object <paramref name="write"/> fills as one line on stdout.</summary>
    public static void Write(Action<Utf8JsonWriter> write) => Output.Line(Format(write));

    /// <summary>The object <paramref name="write"/> fills, as compact JSON.</summary>
    public static string Format(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// A string as a quoted JSON literal for human-readable lines: quotes, backslashes and control characters escaped,
    /// every other character (emoji and the rest beyond the first plane included) as it is, not as surrogate escapes.
    /// </summary>
    public static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\r' => quoted.Append("\\r"),
                '\t' => quoted.Append("\\t"),
                < ' ' or '\u007f' => quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => quoted.Append(c),
            };
        }
        return quoted.Append('"').ToString();
    }
}
