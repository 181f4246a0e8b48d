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

    /// <summary>A string as a quoted, escaped JSON literal (for human-readable lines too).</summary>
    public static string Quote(string value) => JsonSerializer.Serialize(value, QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
