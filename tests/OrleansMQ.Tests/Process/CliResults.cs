using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Process;

/// <summary>What the CLI tests read from a command's output: send result lines, success, and the one error line.</summary>
public static partial class CliResults
{
    [GeneratedRegex(@"^SendOk msgId=(?<id>[0-9A-F]{32}) queue=(?<topic>\S+):(?<queue>\d+) offset=(?<offset>\d+)$")]
    private static partial Regex SendLine();

    /// <summary>One send result line of <c>orleansmq send</c>.</summary>
    public sealed record Sent(string MsgId, int QueueId, long Offset);

    /// <summary>One <c>--json</c> output line.</summary>
    public static JsonElement Json(string line) => JsonDocument.Parse(line).RootElement;

    public static void AssertOk(ProcessResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    /// <summary>The one error line of a failed command, and its exit code.</summary>
    public static void AssertError(ProcessResult result, string code, int exitCode)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit code {exitCode}: {result}");
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith($"error: {code}:", line);
        Assert.Empty(result.StdoutLines);
    }

    /// <summary>The send result lines of <paramref name="send"/>, each checked to name <paramref name="topic"/>.</summary>
    public static List<Sent> ParseSent(ProcessResult send, string topic) =>
    [
        .. send.StdoutLines.Select(line =>
        {
            var match = SendLine().Match(line);
            Assert.True(match.Success, $"not a send result line: '{line}'");
            Assert.Equal(topic, match.Groups["topic"].Value);
            return new Sent(match.Groups["id"].Value, int.Parse(match.Groups["queue"].Value), long.Parse(match.Groups["offset"].Value));
        }),
    ];
}
