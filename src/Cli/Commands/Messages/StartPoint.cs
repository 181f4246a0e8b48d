using System.CommandLine.Parsing;
using OrleansMQ.Client;
using OrleansMQ.Cli.Common;
using OrleansMQ.ConsumerGroups;

namespace OrleansMQ.Cli.Commands.Messages;

/// <summary>
/// <c>consume --from</c>: where a group with no committed offset starts, as RocketMQ's ConsumeFromWhere (first, last,
/// or a timestamp).
/// </summary>
internal sealed record StartPoint(ConsumeFromWhere Where, DateTimeOffset? Time = null)
{
    public static readonly StartPoint First = new(ConsumeFromWhere.FirstOffset);

    public static readonly StartPoint Last = new(ConsumeFromWhere.LastOffset);

    /// <summary>As the option is written: first, last or the time (also what <c>--help</c> shows as the default).</summary>
    public override string ToString() => Where switch
    {
        ConsumeFromWhere.FirstOffset => "first",
        ConsumeFromWhere.LastOffset => "last",
        _ => Time?.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    public void ApplyTo(ConsumerOptions options)
    {
        options.ConsumeFromWhere = Where;
        if (Time is { } time)
        {
            options.ConsumeTimestamp = time;
        }
    }

    public static StartPoint? Parse(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : "";
        if (token.Equals("first", StringComparison.OrdinalIgnoreCase)) return First;
        if (token.Equals("last", StringComparison.OrdinalIgnoreCase)) return Last;
        if (TimeArguments.TryParse(token, DateTimeOffset.UtcNow, out var time)) return new StartPoint(ConsumeFromWhere.Timestamp, time);
        result.AddError($"'{token}' is not a start for --from; write first, last, or {TimeArguments.Help}");
        return null;
    }
}
