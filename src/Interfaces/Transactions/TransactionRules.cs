using System.Globalization;
using OrleansMQ.Messages;
using OrleansMQ.Topics;
using OrleansMQ.Validation;

namespace OrleansMQ.Transactions;

/// <summary>
/// What makes a transaction message valid, shared by the producer (which refuses before anything is sent) and the
/// coordinator grain (which refuses before anything is stored), and the properties a half message carries.
/// </summary>
public static class TransactionRules
{
    /// <summary>RocketMQ's per-message override of the first check-back delay, in whole seconds (CHECK_IMMUNITY_TIME_IN_SECONDS).</summary>
    public const string CheckImmunityTimeProperty = "CHECK_IMMUNITY_TIME_IN_SECONDS";

    /// <summary>Set on the message a check-back hands to the producer: how many checks it has had, this one included (RocketMQ's TRANSACTION_CHECK_TIMES).</summary>
    public const string CheckTimesProperty = "TRANSACTION_CHECK_TIMES";

    /// <summary>Longest first check-back delay a message may ask for (one day; RocketMQ sets no bound, a day keeps a typo from parking a message for years).</summary>
    public static readonly TimeSpan MaxCheckImmunity = TimeSpan.FromDays(1);

    /// <summary>How a resolver is written in omq_half_message.resolved_by and shown by the CLI.</summary>
    public static string NameOf(TransactionResolver resolver) => resolver switch
    {
        TransactionResolver.Producer => "producer",
        TransactionResolver.CheckBack => "check-back",
        TransactionResolver.Operator => "operator",
        TransactionResolver.Broker => "broker",
        _ => throw new ArgumentOutOfRangeException(nameof(resolver), resolver, null),
    };

    /// <summary>Refuses a transaction producer without a producer group: check-backs are addressed to the group.</summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidTransaction"/>, or <see cref="MQErrorCode.InvalidGroupName"/> for a malformed name.</exception>
    public static void CheckProducerGroup(string? producerGroup)
    {
        if (string.IsNullOrWhiteSpace(producerGroup))
        {
            throw new MQException(MQErrorCode.InvalidTransaction,
                "transaction messages need a producer group (ProducerOptions.ProducerGroup, --producer-group): the broker checks unresolved transactions back with a live producer of that group");
        }
        Names.CheckGroup(producerGroup);
    }

    /// <summary>
    /// Refuses a message that cannot be a transaction message: one with a delay level or a timer property (RocketMQ 5
    /// refuses them; a delayed commit would need a second schedule), or an unreadable check-immunity time.
    /// </summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidTransaction"/> or <see cref="MQErrorCode.InvalidProperties"/>.</exception>
    public static void CheckMessage(MessageData message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Properties is { } properties &&
            (properties.ContainsKey(MessageTypeRules.DelayLevelProperty) || MessageTypeRules.TimerProperties.Any(properties.ContainsKey)))
        {
            throw new MQException(MQErrorCode.InvalidTransaction,
                $"message {message.MsgId} is a transaction message and asks for a delay or deliver time; a transaction message is delivered when it commits (send the delayed message from the local transaction instead)");
        }
        CheckImmunity(message);
    }

    /// <summary>The message's own first check-back delay (<see cref="CheckImmunityTimeProperty"/>), or null to use the broker's TransactionTimeout.</summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidProperties"/> when the property is not a whole number of seconds from 1 to a day.</exception>
    public static TimeSpan? CheckImmunity(MessageData message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Properties is null || !message.Properties.TryGetValue(CheckImmunityTimeProperty, out var text))
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > MaxCheckImmunity.TotalSeconds)
        {
            throw new MQException(MQErrorCode.InvalidProperties,
                $"property {CheckImmunityTimeProperty} is '{text}'; it must be a whole number of seconds from 1 to {MaxCheckImmunity.TotalSeconds:0}");
        }
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Refuses a transaction message for a topic that takes none (a FIFO topic: MessageTypeMismatch).</summary>
    public static void CheckFitsTopic(string topic, TopicMessageType topicType) =>
        MessageTypeRules.CheckFitsTopic(topic, topicType, TopicMessageType.Transaction);

    /// <summary>The half message as stored: marked with <see cref="MessageTypeRules.TransactionProperty"/> and its producer group.</summary>
    public static MessageData AsHalf(MessageData message, string producerGroup) =>
        message with
        {
            ProducerGroup = producerGroup,
            Properties = new Dictionary<string, string>(message.Properties ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [MessageTypeRules.TransactionProperty] = "true",
            },
        };

    /// <summary>
    /// The committed message as consumers see it: the same id, body, tag, keys, birth and user properties, without the
    /// half-message mark (RocketMQ clears TRAN_MSG on commit too).
    /// </summary>
    public static MessageData ForDelivery(MessageData half)
    {
        ArgumentNullException.ThrowIfNull(half);
        if (half.Properties is null || !half.Properties.ContainsKey(MessageTypeRules.TransactionProperty)) return half;
        var properties = new Dictionary<string, string>(half.Properties, StringComparer.Ordinal);
        properties.Remove(MessageTypeRules.TransactionProperty);
        return half with { Properties = properties.Count == 0 ? null : properties };
    }
}
