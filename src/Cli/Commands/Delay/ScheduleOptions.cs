using System.CommandLine;
using System.Globalization;
using OrleansMQ.Cli.Common;

namespace OrleansMQ.Cli.Commands.Delay;

/// <summary><c>send</c>'s delay options: a delay level, or a timer time (after a duration, or at an ISO time). At most one.</summary>
internal sealed class ScheduleOptions
{
    public Option<int> DelayLevel { get; } = new("--delay-level")
    {
        Description = "Deliver after the delay of this level (1-18 by default: 1s 5s 10s 30s 1m 2m … 2h; see 'orleansmq delay status')",
        HelpName = "level",
    };

    public Option<Duration?> DeliverAfter { get; } = new("--deliver-after")
    {
        Description = "Deliver this long after sending (a timer message), e.g. 90s, 15m, 2h",
        HelpName = "duration",
        CustomParser = result =>
        {
            var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (Durations.TryParse(token, out var value)) return new Duration(value);
            result.AddError($"'{token}' is not a duration for --deliver-after; write e.g. 500ms, 90s, 15m or 2h");
            return null;
        },
    };

    public Option<string> DeliverAt { get; } = new("--deliver-at")
    {
        Description = "Deliver at this time (a timer message), ISO 8601, e.g. 2026-12-01T12:00:00Z; at most the broker's timer horizon ahead (24 h by default); a past time delivers at once",
        HelpName = "time",
    };

    /// <summary>The schedule asked for on the command line.</summary>
    public (int DelayLevel, TimeSpan? DeliverAfter, DateTimeOffset? DeliverAt) Read(ParseResult parse)
    {
        var level = parse.GetValue(DelayLevel);
        var after = parse.GetValue(DeliverAfter)?.Value;
        var atText = parse.GetValue(DeliverAt);
        DateTimeOffset? at = null;
        if (atText is not null)
        {
            at = DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                ? parsed
                : throw CliErrors.BadArgument($"--deliver-at '{atText}' is not a time; write ISO 8601, e.g. 2030-01-01T12:00:00Z");
        }
        if ((level != 0 ? 1 : 0) + (after is null ? 0 : 1) + (at is null ? 0 : 1) > 1)
        {
            throw CliErrors.BadArgument("give one of --delay-level, --deliver-after and --deliver-at");
        }
        return (level, after, at);
    }
}
