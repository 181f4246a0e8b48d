using System.Globalization;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Topics;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Delay;

/// <summary>
/// The rules every scheduled message follows, for the delay-level and timer grains alike: what it must carry
/// when it is scheduled, and what it becomes when it is delivered to its real topic.
/// </summary>
internal static class ScheduledMessages
{
    private static readonly string[] ScheduleOnly = [MessageConst.RealTopic, MessageConst.RealQueueId, MessageConst.DelayLevel, MessageConst.TimerDeliverMs];

    /// <summary>The destination a scheduled message carries; throws InvalidArgument when it is missing or malformed.</summary>
    public static MessageQueue Destination(MessageData message) =>
        Destination(message.Properties, message.MsgId);

    /// <summary>The destination of a stored scheduled message, or null when it carries none (it cannot be delivered).</summary>
    public static MessageQueue? TryDestination(MessageExt message)
    {
        try
        {
            return Destination(message.Properties, message.MsgId);
        }
        catch (MQException)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks a message to schedule: the shared message rules, and a destination that is a live, writable queue
    /// (<paramref name="routeOf"/> answers the route of a topic).
    /// </summary>
    public static async Task CheckAsync(MessageData message, int maxBodyBytes, Func<string, Task<TopicRoute>> routeOf)
    {
        MessageRules.Check(message, maxBodyBytes);
        var destination = Destination(message);
        var route = await routeOf(destination.Topic);
        if (!route.Permission.HasFlag(TopicPermission.Write))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"topic '{route.Topic}' is not writable (permission {route.Permission})");
        }
        // A FIFO topic takes no delayed message: it would be stored out of its message group's send order.
        MessageTypeRules.CheckFitsTopic(route.Topic, route.MessageType, TopicMessageType.Delay);
        if (destination.QueueId >= route.Queues)
        {
            throw new MQException(MQErrorCode.QueueNotFound, $"topic '{route.Topic}' has queues 0 to {route.Queues - 1}; queue {destination.QueueId} does not exist");
        }
    }

    /// <summary>The message with one property set (the broker's stamp, e.g. the level it was scheduled with).</summary>
    public static MessageData WithProperty(MessageData message, string name, string value)
    {
        var properties = message.Properties is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(message.Properties, StringComparer.Ordinal);
        properties[name] = value;
        return message with { Properties = properties };
    }

    /// <summary>
    /// What a due message becomes on its real topic: the same id, body, tag, keys, birth and reconsume times, with
    /// the schedule's own properties removed (retry properties such as RETRY_TOPIC stay).
    /// </summary>
    public static MessageData ForDelivery(MessageExt scheduled)
    {
        Dictionary<string, string>? properties = null;
        if (scheduled.Properties is { Count: > 0 })
        {
            properties = new Dictionary<string, string>(scheduled.Properties, StringComparer.Ordinal);
            foreach (var name in ScheduleOnly) properties.Remove(name);
            if (properties.Count == 0) properties = null;
        }
        return new MessageData(scheduled.MsgId, scheduled.Tag, scheduled.Keys, scheduled.Body, properties,
            scheduled.BornAt, scheduled.BornHost, scheduled.ProducerGroup, scheduled.ReconsumeTimes);
    }

    /// <summary>A timer message's due time; throws InvalidArgument when it carries none.</summary>
    public static DateTimeOffset TimerDue(IReadOnlyDictionary<string, string>? properties)
    {
        if (properties is null || !properties.TryGetValue(MessageConst.TimerDeliverMs, out var text)
            || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) || ms < 0 || ms > 253402300799999)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"a timer message needs property {MessageConst.TimerDeliverMs}: its due time in milliseconds since 1970-01-01 UTC");
        }
        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    /// <summary>
    /// When a stored schedule copy is due, or null when it cannot tell: a delay-level copy at its store time plus its
    /// level's delay (queue = level − 1, as the level grain moves it), a timer copy at its <see cref="MessageConst.TimerDeliverMs"/>.
    /// </summary>
    public static DateTimeOffset? TryDue(MessageExt copy, DelayLevelTable levels)
    {
        if (copy.Topic == ScheduleTopics.DelayTopic)
        {
            return copy.QueueId < levels.Count ? copy.StoredAt + levels.DelayOf(copy.QueueId + 1) : null;
        }
        try
        {
            return TimerDue(copy.Properties);
        }
        catch (MQException)
        {
            return null;
        }
    }

    private static MessageQueue Destination(IReadOnlyDictionary<string, string>? properties, string msgId)
    {
        if (properties is null
            || !properties.TryGetValue(MessageConst.RealTopic, out var topic)
            || !properties.TryGetValue(MessageConst.RealQueueId, out var queueText)
            || !int.TryParse(queueText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var queueId) || queueId < 0)
        {
            throw new MQException(MQErrorCode.InvalidArgument,
                $"scheduled message {msgId} needs its destination in properties {MessageConst.RealTopic} and {MessageConst.RealQueueId}");
        }
        Names.CheckSystemTopic(topic);
        return new MessageQueue(topic, queueId);
    }
}
