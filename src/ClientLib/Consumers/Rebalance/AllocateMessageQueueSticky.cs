using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// A strategy that also sees where the queues are now: the queues each live instance reported consuming on its
/// last heartbeat (the group grain hands them out with the membership).
/// </summary>
public interface IAllocateMessageQueueStrategyWithAssignments : IAllocateMessageQueueStrategy
{
    /// <summary>The queues <paramref name="currentClientId"/> consumes, given what every instance consumes now.</summary>
    /// <param name="consumerGroup">The group.</param>
    /// <param name="currentClientId">This instance.</param>
    /// <param name="allQueues">Every queue of the subscribed topics, sorted.</param>
    /// <param name="allClientIds">Every live instance, sorted ordinally.</param>
    /// <param name="currentAssignments">Client id → the queues it reported consuming (missing: none).</param>
    IReadOnlyList<MessageQueue> Allocate(
        string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds,
        IReadOnlyDictionary<string, IReadOnlyList<MessageQueue>> currentAssignments);
}

/// <summary>
/// Moves as few queues as possible while keeping the shares as even as the average strategy's (they differ by at
/// most one queue): every instance keeps the queues it consumes now up to its share; only the queues of instances
/// that left, and the surplus of instances over their share, move — to the instances under their share. When an
/// instance joins a group of n, about 1/(n+1) of the queues move (the average strategy can move most of them),
/// which matters for orderly consumers: every moved queue is a handover.
/// </summary>
public sealed class AllocateMessageQueueSticky : IAllocateMessageQueueStrategyWithAssignments
{
    /// <summary>A shared instance (the strategy has no state).</summary>
    public static AllocateMessageQueueSticky Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "STICKY";

    /// <summary>Without the current assignments there is nothing to stick to: the average allocation.</summary>
    public IReadOnlyList<MessageQueue> Allocate(string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds) =>
        Allocate(consumerGroup, currentClientId, allQueues, allClientIds, new Dictionary<string, IReadOnlyList<MessageQueue>>());

    /// <inheritdoc />
    public IReadOnlyList<MessageQueue> Allocate(
        string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds,
        IReadOnlyDictionary<string, IReadOnlyList<MessageQueue>> currentAssignments)
    {
        ArgumentNullException.ThrowIfNull(allQueues);
        ArgumentNullException.ThrowIfNull(allClientIds);
        ArgumentNullException.ThrowIfNull(currentAssignments);
        return AllocateAll(allQueues, allClientIds, currentAssignments).TryGetValue(currentClientId, out var mine) ? mine : [];
    }

    /// <summary>The whole group's allocation: client id → its queues, sorted. Every queue exactly once.</summary>
    internal static Dictionary<string, List<MessageQueue>> AllocateAll(
        IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds, IReadOnlyDictionary<string, IReadOnlyList<MessageQueue>> currentAssignments)
    {
        var clients = allClientIds.Distinct().Order(StringComparer.Ordinal).ToList();
        var result = clients.ToDictionary(c => c, _ => new List<MessageQueue>(), StringComparer.Ordinal);
        if (clients.Count == 0)
        {
            return result;
        }
        var queues = allQueues.Distinct().Order().ToList();
        var known = queues.ToHashSet();

        // What each live instance owns now, each queue counted once (the ordinally first claimant keeps a disputed one).
        var claimed = new HashSet<MessageQueue>();
        var owned = new Dictionary<string, List<MessageQueue>>(StringComparer.Ordinal);
        foreach (var client in clients)
        {
            var mine = currentAssignments.TryGetValue(client, out var current) && current is not null
                ? current.Where(q => known.Contains(q) && claimed.Add(q)).Order().ToList()
                : [];
            owned[client] = mine;
        }

        // Shares as even as possible; the extra queues go to the instances owning the most now (fewest moves).
        var baseShare = queues.Count / clients.Count;
        var extra = queues.Count % clients.Count;
        var byOwned = clients.OrderByDescending(c => owned[c].Count).ThenBy(c => c, StringComparer.Ordinal).ToList();
        var share = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < byOwned.Count; i++)
        {
            share[byOwned[i]] = baseShare + (i < extra ? 1 : 0);
        }

        var kept = new HashSet<MessageQueue>();
        foreach (var client in clients)
        {
            foreach (var queue in owned[client].Take(share[client]))
            {
                result[client].Add(queue);
                kept.Add(queue);
            }
        }
        var orphans = new Queue<MessageQueue>(queues.Where(q => !kept.Contains(q)));
        foreach (var client in clients)
        {
            while (result[client].Count < share[client] && orphans.Count > 0)
            {
                result[client].Add(orphans.Dequeue());
            }
            result[client].Sort();
        }
        return result;
    }
}
