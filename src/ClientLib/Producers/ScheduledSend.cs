using System.Globalization;
using OrleansMQ.Delay;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// A delayed or timer send, as RocketMQ's producer and broker treat it: the producer picks the real queue as for
/// any send, then the message goes to a schedule (a delay level, or a timer queue) carrying that queue in
/// <see cref="MessageConst.RealTopic"/> / <see cref="MessageConst.RealQueueId"/>. Sends to one schedule are
/// coalesced like sends to one queue.
/// </summary>
internal sealed class ScheduledSend
{
    private static int _nextTimerQueue;

    private readonly int _delayLevel;
    private readonly long _deliverAtMs;

    private ScheduledSend(int delayLevel, long deliverAtMs, MessageQueue schedule)
    {
        _delayLevel = delayLevel;
        _deliverAtMs = deliverAtMs;
        Schedule = schedule;
    }

    /// <summary>The schedule queue the message waits on: the level's queue, or a timer queue.</summary>
    public MessageQueue Schedule { get; }

    /// <summary>The schedule a message asks for, or null when it is delivered at once; throws for a bad request.</summary>
    /// <exception cref="MQException">InvalidDelayLevel, DeliverTimeOutOfRange, InvalidArgument (both a level and a time).</exception>
    public static ScheduledSend? Of(Message message)
    {
        if (message.DelayLevel < 0 || message.DelayLevel > DelayLevelTable.MaxLevels)
        {
            throw new MQException(MQErrorCode.InvalidDelayLevel, $"delay level {message.DelayLevel} is out of range; 0 (none) or 1 to the cluster's level count (18 by default)");
        }
        if (message.DeliverAt is not null && message.DeliverAfter is not null)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "set DeliverAt or DeliverAfter, not both");
        }
        if (message.DeliverAfter is { } after && after < TimeSpan.Zero)
        {
            throw new MQException(MQErrorCode.DeliverTimeOutOfRange, $"DeliverAfter is {after}; it must not be negative");
        }
        var deliverAt = message.DeliverAt ?? (message.DeliverAfter is { } delay ? DateTimeOffset.UtcNow + delay : null);
        if (message.DelayLevel > 0 && deliverAt is not null)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a message has either a DelayLevel or a DeliverAt/DeliverAfter time, not both");
        }
        if (message.DelayLevel > 0)
        {
            return new ScheduledSend(message.DelayLevel, 0, new MessageQueue(ScheduleTopics.DelayTopic, message.DelayLevel - 1));
        }
        if (deliverAt is not { } at)
        {
            return null;
        }
        if (at > DateTimeOffset.UtcNow + ScheduleTopics.MaxTimerHorizon)
        {
            throw new MQException(MQErrorCode.DeliverTimeOutOfRange,
                $"deliver-at {at:O} is {(at - DateTimeOffset.UtcNow).TotalDays:0.#} days ahead; no broker takes a timer message more than " +
                $"{ScheduleTopics.MaxTimerHorizon.TotalDays:0} days ahead, and each takes at most its TimerHorizon setting (24 h by default)");
        }
        // Timer messages are spread over the timer queues, so no one timer grain carries them all.
        var timerQueue = (int)((uint)Interlocked.Increment(ref _nextTimerQueue) % ScheduleTopics.TimerQueues);
        // Rounded up to the millisecond: a message is never delivered before the time it asked for.
        var ms = at.ToUnixTimeMilliseconds();
        if (DateTimeOffset.FromUnixTimeMilliseconds(ms) < at) ms++;
        return new ScheduledSend(0, Math.Max(0, ms), new MessageQueue(ScheduleTopics.TimerTopic, timerQueue));
    }

    /// <summary>The message addressed to <paramref name="destination"/> through the schedule.</summary>
    public MessageData[] Stamp(MessageData[] messages, MessageQueue destination)
    {
        var stamped = new MessageData[messages.Length];
        for (var i = 0; i < messages.Length; i++)
        {
            var properties = messages[i].Properties is { } existing
                ? new Dictionary<string, string>(existing, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            properties[MessageConst.RealTopic] = destination.Topic;
            properties[MessageConst.RealQueueId] = destination.QueueId.ToString(CultureInfo.InvariantCulture);
            if (_delayLevel == 0)
            {
                properties[MessageConst.TimerDeliverMs] = _deliverAtMs.ToString(CultureInfo.InvariantCulture);
            }
            stamped[i] = messages[i] with { Properties = properties };
        }
        return stamped;
    }
}
