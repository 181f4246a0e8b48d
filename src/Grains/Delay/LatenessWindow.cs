using OrleansMQ.Delay;

namespace OrleansMQ.Grains.Delay;

/// <summary>The lateness (delivered − due) of a schedule's last deliveries, for <c>delay status</c>. One grain turn at a time: no locks.</summary>
internal sealed class LatenessWindow(int capacity = 1024)
{
    private readonly double[] _millis = new double[capacity];
    private int _count;
    private int _next;

    public long Delivered { get; private set; }

    public DateTimeOffset? LastDeliveredAt { get; private set; }

    public void Record(DateTimeOffset due, DateTimeOffset deliveredAt)
    {
        _millis[_next] = Math.Max(0, (deliveredAt - due).TotalMilliseconds);
        _next = (_next + 1) % _millis.Length;
        _count = Math.Min(_count + 1, _millis.Length);
        Delivered++;
        if (LastDeliveredAt is null || deliveredAt > LastDeliveredAt) LastDeliveredAt = deliveredAt;
    }

    public LatenessSummary Summary()
    {
        if (_count == 0) return LatenessSummary.None;
        var sorted = _millis[.._count];
        Array.Sort(sorted);
        TimeSpan At(double quantile) => TimeSpan.FromMilliseconds(sorted[Math.Min(_count - 1, (int)Math.Ceiling(quantile * _count) - 1)]);
        return new LatenessSummary(_count, At(0.5), At(0.99), TimeSpan.FromMilliseconds(sorted[^1]));
    }
}
