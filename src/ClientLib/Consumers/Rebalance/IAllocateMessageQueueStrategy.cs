using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// Divides a group's queues among its instances, as RocketMQ's AllocateMessageQueueStrategy. Every instance
/// computes its own share from the same sorted inputs, so the strategy must be deterministic and every
/// instance of a group must use the same one; together the shares must cover each queue exactly once.
/// </summary>
public interface IAllocateMessageQueueStrategy
{
    /// <summary>The strategy's name, for logs.</summary>
    string Name { get; }

    /// <summary>The queues <paramref name="currentClientId"/> consumes.</summary>
    /// <param name="consumerGroup">The group.</param>
    /// <param name="currentClientId">This instance.</param>
    /// <param name="allQueues">Every queue of the subscribed topics, sorted by topic then queue id.</param>
    /// <param name="allClientIds">Every live instance of the group, sorted ordinally; contains <paramref name="currentClientId"/>.</param>
    IReadOnlyList<MessageQueue> Allocate(string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds);
}

/// <summary>
/// RocketMQ's default: contiguous, nearly equal ranges. With 8 queues and 3 instances, instance 0 gets queues
/// 0–2, instance 1 gets 3–5, instance 2 gets 6–7; with more instances than queues, the extra instances get none.
/// </summary>
public sealed class AllocateMessageQueueAveragely : IAllocateMessageQueueStrategy
{
    /// <summary>A shared instance (the strategy has no state).</summary>
    public static AllocateMessageQueueAveragely Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "AVG";

    /// <inheritdoc />
    public IReadOnlyList<MessageQueue> Allocate(string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds)
    {
        ArgumentNullException.ThrowIfNull(allQueues);
        ArgumentNullException.ThrowIfNull(allClientIds);
        var index = AllocationMath.IndexOf(allClientIds, currentClientId);
        if (index < 0 || allQueues.Count == 0)
        {
            return [];
        }
        var queues = allQueues.Count;
        var clients = allClientIds.Count;
        var mod = queues % clients;
        var averageSize = queues <= clients ? 1 : (mod > 0 && index < mod ? (queues / clients) + 1 : queues / clients);
        var startIndex = mod > 0 && index < mod ? index * averageSize : (index * averageSize) + mod;
        var range = Math.Min(averageSize, queues - startIndex);
        var result = new List<MessageQueue>(Math.Max(range, 0));
        for (var i = 0; i < range; i++)
        {
            result.Add(allQueues[startIndex + i]);
        }
        return result;
    }
}
