namespace OrleansMQ.ConsumerGroups;

/// <summary>
/// One consumer group (key: group name): its live instances and their subscriptions. Instances
/// divide the queues among themselves from the sorted membership this grain returns (average
/// allocation, as RocketMQ's client-side rebalance).
/// </summary>
public interface IConsumerGroupGrain : IGrainWithStringKey
{
    /// <summary>Registers or refreshes an instance; returns the current membership.</summary>
    Task<GroupMembership> Heartbeat(ConsumerHeartbeat heartbeat);

    /// <summary>Removes an instance at once (graceful shutdown), releasing its queue locks.</summary>
    Task<GroupMembership> Unregister(string clientId);

    /// <summary>The live instances.</summary>
    Task<IReadOnlyList<ConsumerInstanceInfo>> GetInstances();

    /// <summary>
    /// Deletes the group (mqadmin deleteSubGroup): its committed offsets on every topic, its broadcasting instances'
    /// offsets, and its retry topic and (unless <paramref name="keepDeadLetters"/>) its dead-letter topic. Refused with
    /// ConsumerGroupActive while the group has a live instance. A consumer that starts later begins as a new group.
    /// </summary>
    Task<GroupDeletion> Delete(bool keepDeadLetters);

    /// <summary>
    /// Locks (or renews) orderly-consumption locks of queues for an instance, as RocketMQ's lockBatchMQ: returns the
    /// queues now locked by it and how long it may treat them as locked, counted from when it sent the request.
    /// A queue locked by another live instance is not granted; see docs/ordered.md for the lease rules.
    /// </summary>
    Task<QueueLockResult> LockBatch(string clientId, IReadOnlyList<Messages.MessageQueue> queues);

    /// <summary>
    /// Releases an instance's locks on the queues (after it committed their offsets) and tells the others at once.
    /// <paramref name="handoverOffsets"/>: the offsets it committed, handed to the next holder with its lock, so the
    /// next holder starts after them even if an older commit of the previous holder reached the queue grain late.
    /// </summary>
    Task UnlockBatch(string clientId, IReadOnlyList<Messages.MessageQueue> queues, IReadOnlyDictionary<Messages.MessageQueue, long>? handoverOffsets = null);
}
