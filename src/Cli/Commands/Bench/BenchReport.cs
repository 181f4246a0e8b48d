using System.Globalization;
using OrleansMQ.Cli.Common;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>A benchmark's result: a two-column table on stdout and, with <c>--json</c>, one JSON line after it.</summary>
internal sealed class BenchReport(string bench)
{
    private readonly List<(string Key, string Label, object Value, string Text)> _rows = [];

    public BenchReport Text(string key, string label, string value)
    {
        _rows.Add((key, label, value, value));
        return this;
    }

    public BenchReport Number(string key, string label, double value, string format, string unit = "")
    {
        var text = value.ToString(format, CultureInfo.InvariantCulture) + (unit.Length > 0 ? " " + unit : "");
        _rows.Add((key, label, value, text));
        return this;
    }

    public BenchReport Count(string key, string label, long value)
    {
        _rows.Add((key, label, value, value.ToString("N0", CultureInfo.InvariantCulture)));
        return this;
    }

    /// <summary>p50/p90/p99[/p99.9]/max of <paramref name="latency"/>, in milliseconds.</summary>
    public BenchReport Latency(string key, string label, LatencyHistogram latency, bool withP999 = false)
    {
        Number($"{key}P50Ms", $"{label} p50", latency.PercentileMs(50), "0.000", "ms");
        Number($"{key}P90Ms", $"{label} p90", latency.PercentileMs(90), "0.000", "ms");
        Number($"{key}P99Ms", $"{label} p99", latency.PercentileMs(99), "0.000", "ms");
        if (withP999)
        {
            Number($"{key}P999Ms", $"{label} p99.9", latency.PercentileMs(99.9), "0.000", "ms");
        }
        return Number($"{key}MaxMs", $"{label} max", latency.MaxMs, "0.000", "ms");
    }

    /// <summary>The first failure of a run, if there was one.</summary>
    public BenchReport FirstError(Exception? error) => error switch
    {
        null => this,
        MQException mq => Text("firstError", "first error", $"{mq.Code}: {mq.Message}"),
        _ => Text("firstError", "first error", $"{error.GetType().Name}: {error.Message}"),
    };

    public void Print(bool json)
    {
        var table = Output.NewTable($"bench {bench}", "Result").RightAligned(1);
        foreach (var row in _rows)
        {
            table.AddPlainRow(row.Label, row.Text);
        }
        Output.Write(table);
        if (json)
        {
            JsonLine.Write(w =>
            {
                w.WriteString("bench", bench);
                foreach (var (key, _, value, _) in _rows)
                {
                    switch (value)
                    {
                        case long l: w.WriteNumber(key, l); break;
                        case double d: w.WriteNumber(key, Math.Round(d, 3)); break;
                        default: w.WriteString(key, value.ToString()); break;
                    }
                }
            });
        }
    }
}
