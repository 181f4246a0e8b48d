using OrleansMQ.Messages;

namespace OrleansMQ.Grains.ConsumerGroups;

/// <summary>
/// The orderly queue locks of one consumer group (RocketMQ's RebalanceLockManager): queue → holder and when the
/// holder last renewed. A lock another instance holds is never granted before its lease ran out; the group grain
/// removes a holder's locks at once when the holder unlocks, unregisters or is dropped for silence.
/// </summary>
internal sealed class QueueLockTable(TimeSpan lease)
{
    private readonly Dictionary<MessageQueue, (string ClientId, DateTimeOffset RenewedAt)> _locks = [];

    /// <summary>The lease: a lock not renewed for this long is free.</summary>
    public TimeSpan Lease => lease;

    /// <summary>
    /// Which of <paramref name="queues"/> <paramref name="clientId"/> may hold from <paramref name="now"/>: its own
    /// locks (a renewal), and — when <paramref name="mayGrantNew"/> — free or lapsed ones.
    /// </summary>
    public List<MessageQueue> Grantable(string clientId, IEnumerable<MessageQueue> queues, DateTimeOffset now, bool mayGrantNew)
    {
        var result = new List<MessageQueue>();
        foreach (var queue in queues.Distinct())
        {
            if (!_locks.TryGetValue(queue, out var held) || held.RenewedAt + lease <= now)
            {
                if (mayGrantNew) result.Add(queue);
            }
            else if (held.ClientId == clientId)
            {
                result.Add(queue);
            }
        }
        return result;
    }

    /// <summary>Records <paramref name="clientId"/> as the holder of <paramref name="queues"/>, renewed at <paramref name="now"/>.</summary>
    public void Grant(string clientId, IEnumerable<MessageQueue> queues, DateTimeOffset now)
    {
        foreach (var queue in queues)
        {
            _locks[queue] = (clientId, now);
        }
    }

    /// <summary>Releases the queues <paramref name="clientId"/> holds among <paramref name="queues"/> (all of them when null); returns them.</summary>
    public List<MessageQueue> Release(string clientId, IEnumerable<MessageQueue>? queues = null)
    {
        var released = (queues ?? _locks.Keys.ToList())
            .Where(q => _locks.TryGetValue(q, out var held) && held.ClientId == clientId)
            .Distinct()
            .ToList();
        foreach (var queue in released)
        {
            _locks.Remove(queue);
        }
        return released;
    }

    /// <summary>The unexpired locks of <paramref name="clientId"/>, sorted.</summary>
    public List<MessageQueue> HeldBy(string clientId, DateTimeOffset now) =>
        [.. _locks.Where(l => l.Value.ClientId == clientId && l.Value.RenewedAt + lease > now).Select(l => l.Key).Order()];
}
