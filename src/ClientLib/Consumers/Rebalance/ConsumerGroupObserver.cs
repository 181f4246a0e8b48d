using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// This instance's ear on its group grain (an Orleans observer): a membership change asks for a rebalance at
/// once, a released lock wakes the orderly consumer's waiting lock attempts. Calls arrive on Orleans' threads and
/// only signal; the work happens on the consumer's own loops.
/// </summary>
internal sealed class ConsumerGroupObserver(Action onMembershipChanged, Action onQueuesUnlocked) : IConsumerGroupObserver
{
    public Task OnMembershipChanged(long version)
    {
        onMembershipChanged();
        return Task.CompletedTask;
    }

    public Task OnQueuesUnlocked(IReadOnlyList<MessageQueue> queues)
    {
        onQueuesUnlocked();
        return Task.CompletedTask;
    }
}
