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

    /// <summary>Removes an instance at once (graceful shutdown).</summary>
    Task<GroupMembership> Unregister(string clientId);

    /// <summary>The live instances.</summary>
    Task<IReadOnlyList<ConsumerInstanceInfo>> GetInstances();
}
