using OrleansMQ.Validation;

namespace OrleansMQ.Delay;

/// <summary>
/// System property names the broker sets on scheduled, retried and dead-lettered messages, as RocketMQ's
/// MessageConst. Users may not set them (<see cref="CheckUserProperties"/>), so a handler can trust them.
/// </summary>
public static class MessageConst
{
    /// <summary>The topic a scheduled message is delivered to when due.</summary>
    public const string RealTopic = "REAL_TOPIC";

    /// <summary>The queue id a scheduled message is delivered to when due.</summary>
    public const string RealQueueId = "REAL_QID";

    /// <summary>The delay level a message was scheduled with.</summary>
    public const string DelayLevel = "DELAY";

    /// <summary>A timer message's due time, in milliseconds since the Unix epoch (RocketMQ 5's TIMER_DELIVER_MS).</summary>
    public const string TimerDeliverMs = "TIMER_DELIVER_MS";

    /// <summary>The topic a retried or dead-lettered message was first consumed from.</summary>
    public const string RetryTopic = "RETRY_TOPIC";

    /// <summary>The queue (topic:queue) and offset the message was first consumed at.</summary>
    public const string OriginQueueOffset = "ORIGIN_QUEUE_OFFSET";

    /// <summary>Why a message is in the dead-letter queue.</summary>
    public const string DlqReason = "DLQ_REASON";

    /// <summary>Set on a message resent from the dead-letter queue: when it was resent.</summary>
    public const string DlqResentAt = "DLQ_RESENT_AT";

    /// <summary>Set on a stored message an operator resent to one group (the message track's resend): when.</summary>
    public const string ResentAt = "RESENT_AT";

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        RealTopic, RealQueueId, DelayLevel, TimerDeliverMs, RetryTopic, OriginQueueOffset, DlqReason, DlqResentAt, ResentAt,
    };

    /// <summary>
    /// For one of the properties that make a message delayed or transactional (<see cref="MessageTypeRules.KindOf"/>
    /// knows which), what to use instead: set by hand they would be stored as plain properties (and delivered, or
    /// visible, at once) on most topics. Null for any other name.
    /// </summary>
    private static string? InsteadOfKindMark(string name) =>
        name == MessageTypeRules.TransactionProperty ? "send it with a TransactionProducer (CLI: send --transaction)"
        : name == MessageTypeRules.DelayLevelProperty ? "set Message.DelayLevel (CLI: send --delay-level)"
        : !MessageTypeRules.TimerProperties.Contains(name) ? null
        : name.StartsWith("TIMER_DELAY_", StringComparison.Ordinal) ? "set Message.DeliverAfter (CLI: send --deliver-after)"
        : "set Message.DeliverAt (CLI: send --deliver-at)";

    /// <summary>Whether a property name is the broker's, or one of RocketMQ's delay and transaction marks.</summary>
    public static bool IsReserved(string name) => Reserved.Contains(name) || InsteadOfKindMark(name) is not null;

    /// <summary>
    /// Refuses user properties that use a system name (RocketMQ refuses them too). A half message, which the transaction
    /// producer marks with TRAN_MSG itself, is checked with <paramref name="halfMessage"/> set.
    /// </summary>
    public static void CheckUserProperties(IReadOnlyDictionary<string, string>? properties, bool halfMessage = false)
    {
        if (properties is null) return;
        foreach (var name in properties.Keys)
        {
            if (halfMessage && name == MessageTypeRules.TransactionProperty)
            {
                continue;
            }
            if (InsteadOfKindMark(name) is { } instead)
            {
                throw new MQException(MQErrorCode.InvalidProperties,
                    $"property '{name}' is RocketMQ's own mark of a delayed or transaction message and is not set by hand here; {instead}");
            }
            if (Reserved.Contains(name))
            {
                throw new MQException(MQErrorCode.InvalidProperties,
                    $"property '{name}' is reserved for the broker ({string.Join(", ", Reserved.Order(StringComparer.Ordinal))}); choose another name");
            }
        }
    }
}
