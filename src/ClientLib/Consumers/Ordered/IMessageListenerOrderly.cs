using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>What an orderly listener reports, as RocketMQ's ConsumeOrderlyStatus.</summary>
public enum ConsumeOrderlyStatus
{
    /// <summary>Consumed: the queue moves on to the next message.</summary>
    Success = 0,

    /// <summary>
    /// Not consumed: the queue stops for <see cref="ConsumeOrderlyContext.SuspendCurrentQueueTime"/> and the same
    /// messages are delivered again; nothing after them is delivered meanwhile. A listener that throws counts as this.
    /// </summary>
    SuspendCurrentQueueAMoment = 1,
}

/// <summary>Context of one orderly listener invocation.</summary>
public sealed class ConsumeOrderlyContext
{
    internal ConsumeOrderlyContext(MessageQueue queue, TimeSpan suspendCurrentQueueTime)
    {
        Queue = queue;
        SuspendCurrentQueueTime = suspendCurrentQueueTime;
    }

    /// <summary>The queue the messages come from; only this invocation consumes it now.</summary>
    public MessageQueue Queue { get; }

    /// <summary>How long the queue waits before redelivering after <see cref="ConsumeOrderlyStatus.SuspendCurrentQueueAMoment"/>; may be changed per invocation.</summary>
    public TimeSpan SuspendCurrentQueueTime { get; set; }
}

/// <summary>
/// A listener that consumes each queue in order, as RocketMQ's MessageListenerOrderly: one invocation per queue at a
/// time, only while this instance holds the queue's broker lock, messages in queue-offset order. Messages with the
/// same <see cref="Message.MessageGroup"/> (or selector key) are in one queue, so they arrive in send order.
/// </summary>
public interface IMessageListenerOrderly
{
    /// <summary>
    /// Consumes <paramref name="messages"/> (at most <see cref="PushConsumerOptions.ConsumeMessageBatchMaxSize"/>, consecutive, one queue).
    /// <see cref="MessageExt.ReconsumeTimes"/> counts the earlier failed attempts of the first message.
    /// </summary>
    Task<ConsumeOrderlyStatus> ConsumeMessageAsync(IReadOnlyList<MessageExt> messages, ConsumeOrderlyContext context, CancellationToken cancellationToken);
}
