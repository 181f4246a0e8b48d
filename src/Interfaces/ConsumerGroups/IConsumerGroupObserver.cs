using OrleansMQ.Messages;

namespace OrleansMQ.ConsumerGroups;

/// <summary>
/// A consumer instance's callback for its group grain (an Orleans observer the instance creates with
/// <c>IGrainFactory.CreateObjectReference</c>). The grain calls it the moment something changes, so instances
/// rebalance and take over released queues at once instead of on their next poll. Observers are not durable:
/// each heartbeat hands the reference over again, so a re-activated group grain knows it within one interval.
/// </summary>
public interface IConsumerGroupObserver : IGrainObserver
{
    /// <summary>An instance joined or left, or changed its subscriptions: rebalance now.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnMembershipChanged(long version);

    /// <summary>These queues' orderly locks were released (their previous owner committed and let go): whoever wants them may lock them now.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnQueuesUnlocked(IReadOnlyList<MessageQueue> queues);
}
