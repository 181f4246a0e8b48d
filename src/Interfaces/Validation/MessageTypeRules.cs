using OrleansMQ.Messages;
using OrleansMQ.Topics;

namespace OrleansMQ.Validation;

/// <summary>
/// Which kinds of message a topic's declared message type accepts (RocketMQ 5's topic message type check).
/// The producer and the queue grain run the same check, so a mismatch fails before anything is stored.
/// </summary>
public static class MessageTypeRules
{
    /// <summary>RocketMQ's property for a message group (the RocketMQ 5 name of an ordered message's sharding key).</summary>
    public const string MessageGroupProperty = "__SHARDINGKEY";

    /// <summary>RocketMQ's delay-level property (<c>DELAY</c>).</summary>
    public const string DelayLevelProperty = "DELAY";

    /// <summary>RocketMQ 5's timer properties: deliver at an absolute time, or after a delay.</summary>
    public static readonly IReadOnlyList<string> TimerProperties = ["__STARTDELIVERTIME", "TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS"];

    /// <summary>RocketMQ's transaction (half) message property.</summary>
    public const string TransactionProperty = "TRAN_MSG";

    /// <summary>What kind of message this is, judged by the fields and properties that make a message delayed or transactional.</summary>
    public static TopicMessageType KindOf(MessageData message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // The one place that knows what makes a stored message delayed or transactional. A producer's DelayLevel /
        // DeliverAt send is checked as a delay message before it is stamped (CheckFitsTopic with the kind).
        var properties = message.Properties;
        if (properties is null)
        {
            return TopicMessageType.Normal;
        }
        if (properties.TryGetValue(TransactionProperty, out var transaction) && bool.TryParse(transaction, out var isTransaction) && isTransaction)
        {
            return TopicMessageType.Transaction;
        }
        if (properties.ContainsKey(DelayLevelProperty) || TimerProperties.Any(properties.ContainsKey))
        {
            return TopicMessageType.Delay;
        }
        return TopicMessageType.Normal;
    }

    /// <summary>
    /// Refuses a message whose kind the topic does not accept: a FIFO topic takes no delay and no transaction
    /// message, since either would be stored out of its group's send order.
    /// </summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.MessageTypeMismatch"/>.</exception>
    public static void CheckFitsTopic(string topic, TopicMessageType topicType, MessageData message) =>
        CheckFitsTopic(topic, topicType, KindOf(message));

    /// <summary>
    /// Refuses a message of <paramref name="kind"/> the topic does not accept. A producer's delayed or timer send, and
    /// the schedule grains that take it, check with <see cref="TopicMessageType.Delay"/> before anything is scheduled.
    /// </summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.MessageTypeMismatch"/>.</exception>
    public static void CheckFitsTopic(string topic, TopicMessageType topicType, TopicMessageType kind)
    {
        if (topicType != TopicMessageType.Fifo)
        {
            return;
        }
        if (kind is TopicMessageType.Delay or TopicMessageType.Transaction)
        {
            throw new MQException(MQErrorCode.MessageTypeMismatch,
                $"topic '{topic}' is a FIFO topic; a {kind.ToString().ToLowerInvariant()} message cannot be sent to it (FIFO topics take normal messages, ordered per message group)");
        }
    }
}
