using System.Globalization;

namespace OrleansMQ.Delay;

/// <summary>
/// The delay levels of a cluster, as RocketMQ's <c>messageDelayLevel</c>: level <c>n</c> (1-based) delays a
/// message by the n-th entry. Written as RocketMQ writes it: <c>"1s 5s 10s 30s 1m … 2h"</c> (units ms, s, m, h, d).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DelayLevelTable([property: Id(0)] IReadOnlyList<TimeSpan> Delays)
{
    /// <summary>RocketMQ's default table: 18 levels from 1 s to 2 h.</summary>
    public const string DefaultText = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

    /// <summary>Most levels a table may have (the schedule topic has one queue per level).</summary>
    public const int MaxLevels = 64;

    /// <summary>The default table.</summary>
    public static DelayLevelTable Default { get; } = Parse(DefaultText);

    /// <summary>Number of levels; valid levels are 1 to this.</summary>
    public int Count => Delays.Count;

    /// <summary>The delay of a level; throws <see cref="MQException"/> InvalidDelayLevel for one outside the table.</summary>
    public TimeSpan DelayOf(int level)
    {
        Check(level);
        return Delays[level - 1];
    }

    /// <summary>Throws <see cref="MQException"/> InvalidDelayLevel unless 1 ≤ <paramref name="level"/> ≤ <see cref="Count"/>.</summary>
    public void Check(int level)
    {
        if (level < 1 || level > Count)
        {
            throw new MQException(MQErrorCode.InvalidDelayLevel,
                $"delay level {level} is not configured; this cluster has levels 1 to {Count} ({this})");
        }
    }

    /// <summary>The level a retry uses after <paramref name="reconsumeTimes"/> failed deliveries: 3 + reconsumeTimes, capped at the last level (RocketMQ).</summary>
    public int RetryLevel(int reconsumeTimes) => Math.Clamp(3 + Math.Max(0, reconsumeTimes), 1, Count);

    /// <summary>Parses a table such as <c>"1s 5s 10s"</c>; throws <see cref="MQException"/> InvalidArgument naming the bad entry.</summary>
    public static DelayLevelTable Parse(string? text)
    {
        var parts = (text ?? "").Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length is 0 or > MaxLevels)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"a delay table has 1 to {MaxLevels} levels (e.g. \"{DefaultText}\"); got {parts.Length}");
        }
        var delays = new TimeSpan[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            delays[i] = ParseDelay(parts[i]) ?? throw new MQException(MQErrorCode.InvalidArgument,
                $"delay level {i + 1} '{parts[i]}' is not a delay; write a positive number with a unit: ms, s, m, h or d (e.g. 500ms, 5s, 2h)");
        }
        return new DelayLevelTable(delays);
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(' ', Delays.Select(Format));

    /// <summary>Formats a delay as the table is written (<c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>).</summary>
    public static string Format(TimeSpan delay) =>
        delay.TotalDays >= 1 && delay.TotalDays % 1 == 0 ? $"{delay.TotalDays:0}d"
        : delay.TotalHours >= 1 && delay.TotalHours % 1 == 0 ? $"{delay.TotalHours:0}h"
        : delay.TotalMinutes >= 1 && delay.TotalMinutes % 1 == 0 ? $"{delay.TotalMinutes:0}m"
        : delay.TotalSeconds >= 1 && delay.TotalSeconds % 1 == 0 ? $"{delay.TotalSeconds:0}s"
        : string.Create(CultureInfo.InvariantCulture, $"{delay.TotalMilliseconds:0}ms");

    private static TimeSpan? ParseDelay(string text)
    {
        var (unit, factor) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (2, 1.0),
            _ when text.EndsWith('s') || text.EndsWith('S') => (1, 1000.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (1, 60_000.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (1, 3_600_000.0),
            _ when text.EndsWith('d') || text.EndsWith('D') => (1, 86_400_000.0),
            _ => (0, 0.0),
        };
        if (unit == 0 || !double.TryParse(text[..^unit], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }
        var millis = amount * factor;
        return millis is >= 1 and <= 30 * 86_400_000.0 ? TimeSpan.FromMilliseconds(millis) : null;
    }
}
