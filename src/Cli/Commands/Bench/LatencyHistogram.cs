using System.Diagnostics;
using HdrHistogram;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>Latencies in microseconds (1 µs to 1 h, 3 significant digits), safe to record from many threads.</summary>
internal sealed class LatencyHistogram
{
    private const long Highest = 3_600_000_000;
    private readonly LongConcurrentHistogram _histogram = new(1, Highest, 3);

    public long Count => _histogram.TotalCount;

    /// <summary>Records the time from <paramref name="startTimestamp"/> to <paramref name="endTimestamp"/> (Stopwatch timestamps).</summary>
    public void Record(long startTimestamp, long endTimestamp) =>
        RecordMicroseconds((long)Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMicroseconds);

    public void RecordMicroseconds(long microseconds) => _histogram.RecordValue(Math.Clamp(microseconds, 1, Highest));

    /// <summary>The latency at a percentile, in milliseconds (0 when nothing was recorded).</summary>
    public double PercentileMs(double percentile) => Count == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxMs => Count == 0 ? 0 : _histogram.GetMaxValue() / 1000.0;

    public double MeanMs => Count == 0 ? 0 : _histogram.GetMean() / 1000.0;
}
