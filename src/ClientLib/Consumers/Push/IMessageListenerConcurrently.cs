using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>What a concurrent listener reports for the messages it was given, as RocketMQ's ConsumeConcurrentlyStatus.</summary>
public enum ConsumeResult
{
    /// <summary>Consumed: the messages' offsets may be committed.</summary>
    Success = 0,

    /// <summary>Not consumed: deliver the messages again later. A listener that throws counts as this.</summary>
    ReconsumeLater = 1,
}

/// <summary>Context of one concurrent listener invocation.</summary>
public sealed class ConsumeConcurrentlyContext
{
    internal ConsumeConcurrentlyContext(MessageQueue queue) => Queue = queue;

    /// <summary>The queue the messages come from.</summary>
    public MessageQueue Queue { get; }

    /// <summary>
    /// With <see cref="ConsumeResult.Success"/>, the index of the last message that was consumed; the ones after it
    /// are delivered again, as RocketMQ's ackIndex. Default: all of them.
    /// </summary>
    public int AckIndex { get; set; } = int.MaxValue;
}

/// <summary>A listener that consumes messages concurrently, as RocketMQ's MessageListenerConcurrently.</summary>
public interface IMessageListenerConcurrently
{
    /// <summary>
    /// Consumes <paramref name="messages"/> (at most <see cref="PushConsumerOptions.ConsumeMessageBatchMaxSize"/>,
    /// all from one queue). Runs on the thread pool, up to <see cref="PushConsumerOptions.ConsumeThreadCount"/>
    /// invocations at once, in no particular order.
    /// </summary>
    /// <param name="messages">The messages to consume.</param>
    /// <param name="context">The queue they come from; set <see cref="ConsumeConcurrentlyContext.AckIndex"/> for partial success.</param>
    /// <param name="cancellationToken">Cancelled when the consumer stops and no longer waits for the invocation.</param>
    Task<ConsumeResult> ConsumeMessageAsync(IReadOnlyList<MessageExt> messages, ConsumeConcurrentlyContext context, CancellationToken cancellationToken);
}
