using System.Collections.Concurrent;

namespace OrleansMQ.Client;

/// <summary>
/// Round-robin queue choice for one topic, as RocketMQ's TopicPublishInfo.selectOneMessageQueue: each send
/// takes the next queue, skipping the queue its previous attempt failed on and, for a short while, any queue
/// a recent send failed on (so a queue whose silo just died does not cost every send a failed attempt).
/// </summary>
internal sealed class RoundRobinQueuePicker
{
    /// <summary>
    /// How long a failed queue is skipped when there is another one: longer than Orleans takes to declare a crashed silo
    /// dead (several seconds), so the queues that lived there stop costing sends failed attempts until they move
    /// (RocketMQ isolates an unavailable broker for 30 s).
    /// </summary>
    public static readonly TimeSpan FailurePenalty = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, long> _penalizedUntil = new();
    private int _next;

    /// <param name="start">Where the rotation starts; random by default, so producers do not all start on queue 0.</param>
    /// <param name="time">The clock (tests pass a fake one).</param>
    public RoundRobinQueuePicker(int? start = null, TimeProvider? time = null)
    {
        _next = start ?? Random.Shared.Next();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The next queue id in <c>[0, queueCount)</c>, other than <paramref name="avoidQueueId"/> when there is a choice.</summary>
    public int Pick(int queueCount, int avoidQueueId = -1)
    {
        if (queueCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(queueCount));
        }
        var now = _time.GetTimestamp();
        for (var i = 0; i < queueCount; i++)
        {
            var id = NextId(queueCount);
            if (id != avoidQueueId && !IsPenalized(id, now))
            {
                return id;
            }
        }
        // Every queue is avoided or penalized: ignore the penalties, never the queue that just failed unless it is the only one.
        var fallback = NextId(queueCount);
        return fallback == avoidQueueId && queueCount > 1 ? (fallback + 1) % queueCount : fallback;
    }

    /// <summary>Records that a send to the queue failed; <see cref="Pick"/> skips it for <see cref="FailurePenalty"/>.</summary>
    public void MarkFailed(int queueId) =>
        _penalizedUntil[queueId] = _time.GetTimestamp() + (long)(FailurePenalty.TotalSeconds * _time.TimestampFrequency);

    private int NextId(int queueCount) => (int)((uint)Interlocked.Increment(ref _next) % (uint)queueCount);

    private bool IsPenalized(int queueId, long now)
    {
        if (!_penalizedUntil.TryGetValue(queueId, out var until))
        {
            return false;
        }
        if (now < until)
        {
            return true;
        }
        _penalizedUntil.TryRemove(KeyValuePair.Create(queueId, until));
        return false;
    }
}
