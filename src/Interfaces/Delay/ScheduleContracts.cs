namespace OrleansMQ.Delay;

/// <summary>Which kind of schedule a <see cref="ScheduleStatus"/> describes.</summary>
public enum ScheduleKind
{
    /// <summary>A delay level's FIFO schedule.</summary>
    DelayLevel = 0,
    /// <summary>A timer queue's due-time-indexed schedule (DeliverAt / DeliverAfter messages).</summary>
    Timer = 1,
}

/// <summary>Lateness (delivered − due) of a schedule's last deliveries.</summary>
[GenerateSerializer, Immutable]
public sealed record LatenessSummary(
    [property: Id(0)] int Samples,
    [property: Id(1)] TimeSpan P50,
    [property: Id(2)] TimeSpan P99,
    [property: Id(3)] TimeSpan Max)
{
    public static LatenessSummary None { get; } = new(0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>One schedule as <c>orleansmq delay status</c> shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record ScheduleStatus(
    [property: Id(0)] ScheduleKind Kind,
    [property: Id(1)] int Id,
    [property: Id(2)] TimeSpan? Delay,
    [property: Id(3)] long Pending,
    [property: Id(4)] DateTimeOffset? NextDueAt,
    [property: Id(5)] long Delivered,
    [property: Id(6)] DateTimeOffset? LastDeliveredAt,
    [property: Id(7)] LatenessSummary Lateness);
