using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// RocketMQ's AllocateMessageQueueAveragelyByCircle: queues dealt out one by one like cards. With 8 queues and 3
/// instances, instance 0 gets queues 0, 3, 6, instance 1 gets 1, 4, 7, instance 2 gets 2, 5.
/// </summary>
public sealed class AllocateMessageQueueAveragelyByCircle : IAllocateMessageQueueStrategy
{
    /// <summary>A shared instance (the strategy has no state).</summary>
    public static AllocateMessageQueueAveragelyByCircle Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "AVG_BY_CIRCLE";

    /// <inheritdoc />
    public IReadOnlyList<MessageQueue> Allocate(string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds)
    {
        ArgumentNullException.ThrowIfNull(allQueues);
        ArgumentNullException.ThrowIfNull(allClientIds);
        var index = AllocationMath.IndexOf(allClientIds, currentClientId);
        var result = new List<MessageQueue>();
        if (index < 0)
        {
            return result;
        }
        for (var i = index; i < allQueues.Count; i += allClientIds.Count)
        {
            result.Add(allQueues[i]);
        }
        return result;
    }
}

/// <summary>Helpers the allocation strategies share.</summary>
internal static class AllocationMath
{
    /// <summary>The position of <paramref name="clientId"/> in the sorted client list, or -1.</summary>
    public static int IndexOf(IReadOnlyList<string> clientIds, string clientId)
    {
        for (var i = 0; i < clientIds.Count; i++)
        {
            if (string.Equals(clientIds[i], clientId, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
