namespace OrleansMQ.Tests.Infrastructure;

/// <summary>A clock for unit tests that only moves when the test says so (timestamps only; no timers).</summary>
public sealed class ManualClock : TimeProvider
{
    private long _ticks = TimeSpan.FromDays(1).Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
