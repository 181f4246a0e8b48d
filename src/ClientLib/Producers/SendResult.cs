using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>How a send ended, as RocketMQ's SendStatus. A send that returns at all is durable, so there is one value.</summary>
public enum SendStatus
{
    /// <summary>The message is committed in the broker's store.</summary>
    SendOk = 0,
}

/// <summary>Where a sent message was stored, as RocketMQ's SendResult.</summary>
/// <param name="Status">Always <see cref="SendStatus.SendOk"/>: failures are thrown as <see cref="MQException"/>.</param>
/// <param name="MsgId">The message id the producer assigned.</param>
/// <param name="Queue">The queue the message was appended to.</param>
/// <param name="QueueOffset">The message's offset in that queue.</param>
/// <param name="StoredAt">When the broker stored it.</param>
public sealed record SendResult(SendStatus Status, string MsgId, MessageQueue Queue, long QueueOffset, DateTimeOffset StoredAt)
{
    /// <summary>
    /// For a delayed or timer message: the schedule queue it waits on until due (<see cref="QueueOffset"/> is its
    /// offset there; <see cref="Queue"/> is where it will be delivered). Null for a message delivered at once.
    /// </summary>
    public MessageQueue? ScheduleQueue { get; init; }
}
