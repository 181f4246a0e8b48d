using System.Text.Json;
using OrleansMQ.Cli.Common;

namespace OrleansMQ.Tests.Unit;

/// <summary>How the CLI quotes a text body on its human-readable lines.</summary>
public sealed class CliTextTests
{
    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("héllo 世界 🎉", "\"héllo 世界 🎉\"")]
    [InlineData("say \"hi\"\\now", "\"say \\\"hi\\\"\\\\now\"")]
    [InlineData("line\nnext\ttab\u0001", "\"line\\nnext\\ttab\\u0001\"")]
    public void A_body_is_quoted_with_only_quotes_backslashes_and_control_characters_escaped(string body, string expected)
    {
        var quoted = JsonLine.Quote(body);

        Assert.Equal(expected, quoted);
        Assert.Equal(body, JsonSerializer.Deserialize<string>(quoted)); // still a JSON string literal
    }
}
