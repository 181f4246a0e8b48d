using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Delay;

/// <summary>A timer message's place in the time index: its due time (ms since the Unix epoch) and its timer-queue offset.</summary>
internal readonly record struct TimerEntry(long DueMs, long QueueOffset) : IComparable<TimerEntry>
{
    public int CompareTo(TimerEntry other)
    {
        var byDue = DueMs.CompareTo(other.DueMs);
        return byDue != 0 ? byDue : QueueOffset.CompareTo(other.QueueOffset);
    }
}

/// <summary>
/// The schedules' own state in Postgres: each delay level's delivery offset, and the due-time index of the
/// timer queues. The scheduled messages themselves are rows of the message log (written by queue grains).
/// </summary>
internal interface IScheduleStore
{
    /// <summary>The first schedule offset of <paramref name="level"/> not yet delivered, or null when the level never delivered.</summary>
    Task<long?> LoadDelayOffsetAsync(int level, CancellationToken cancellationToken = default);

    /// <summary>Records that every schedule offset of <paramref name="level"/> below <paramref name="nextOffset"/> was delivered.</summary>
    Task SaveDelayOffsetAsync(int level, long nextOffset, CancellationToken cancellationToken = default);

    /// <summary>Timer entries of one timer queue after <paramref name="after"/> (in due, offset order) and due before <paramref name="beforeMs"/>.</summary>
    Task<IReadOnlyList<TimerEntry>> ScanTimersAsync(int queueId, TimerEntry after, long beforeMs, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The timer messages at these offsets that are still stored.</summary>
    Task<IReadOnlyList<MessageExt>> ReadTimersAsync(int queueId, IReadOnlyList<long> offsets, CancellationToken cancellationToken = default);

    /// <summary>Removes delivered timer messages.</summary>
    Task DeleteTimersAsync(int queueId, IReadOnlyList<long> offsets, CancellationToken cancellationToken = default);

    /// <summary>How many timer messages one timer queue holds, and the earliest due time (ms) among them.</summary>
    Task<(long Count, long? FirstDueMs)> CountTimersAsync(int queueId, CancellationToken cancellationToken = default);
}
