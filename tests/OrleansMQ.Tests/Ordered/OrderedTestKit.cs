using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;

namespace OrleansMQ.Tests.Ordered;

/// <summary>Options and helpers the ordered and broadcasting tests share: short intervals so handovers show within a second.</summary>
internal static class OrderedTestKit
{
    public static PushConsumerOptions Options(string group, string? clientId = null, ConsumeFromWhere from = ConsumeFromWhere.FirstOffset) => new()
    {
        ConsumerGroup = group,
        ClientId = clientId ?? ConsumerOptions.NewClientId(),
        ConsumeFromWhere = from,
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        RebalanceInterval = TimeSpan.FromSeconds(2),
        PullSuspendTimeout = TimeSpan.FromSeconds(2),
        PersistConsumerOffsetInterval = TimeSpan.FromMilliseconds(500),
        LockRenewInterval = TimeSpan.FromSeconds(1),
        LockRetryInterval = TimeSpan.FromMilliseconds(200),
        SuspendCurrentQueueTime = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Sends to the queue whose id is the argument.</summary>
    public sealed class QueueIdSelector : IMessageQueueSelector
    {
        public static QueueIdSelector Instance { get; } = new();

        public MessageQueue Select(IReadOnlyList<MessageQueue> queues, Message message, object? arg) => queues[(int)arg!];
    }
}
