using OrleansMQ.Messages;

namespace OrleansMQ.Retry;

/// <summary>
/// Retry and dead letters of one consumer group (key: the group), as RocketMQ's SendMessageBack processor.
/// A failed message goes to <c>%RETRY%&lt;group&gt;</c> with delay level <c>3 + reconsumeTimes</c> and its
/// reconsumeTimes incremented; once reconsumeTimes reached maxReconsumeTimes it goes to <c>%DLQ%&lt;group&gt;</c>.
/// Both topics have one queue and are created by the broker when first needed.
/// </summary>
public interface IRetryGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the group's retry topic exists (a clustering push consumer subscribes to it).</summary>
    Task EnsureRetryTopic();

    /// <summary>Hands a failed message back: durable on the retry schedule or in the DLQ when this returns.</summary>
    Task<SendBackResult> SendBack(SendBackRequest request);

    /// <summary>
    /// Puts a message straight into the group's dead-letter queue, keeping its reconsumeTimes. For consumers that
    /// retry in place (orderly consumers) and give up after maxReconsumeTimes.
    /// </summary>
    Task<SendBackResult> SendToDeadLetter(MessageExt message, string reason);

    /// <summary>Dead letters from <paramref name="fromOffset"/> on (at most <paramref name="maxCount"/>), oldest first.</summary>
    Task<IReadOnlyList<DeadLetter>> ListDeadLetters(long fromOffset, int maxCount);

    /// <summary>
    /// Delivers a stored message of a topic again to this group only (RocketMQ dashboard's resend from the message
    /// track): it goes to the group's retry topic, due at once with reconsumeTimes 0, and keeps its id, body and
    /// properties. Other groups are not affected. Throws MessageNotFound when nothing is stored at that offset.
    /// </summary>
    Task<SendBackResult> ResendMessage(string topic, int queueId, long offset);

    /// <summary>
    /// Puts dead letters back to the group (its retry topic, due at once, reconsumeTimes 0): those with the given
    /// ids, or with null every one never resent. Throws MessageNotFound for an id not in the DLQ.
    /// </summary>
    Task<IReadOnlyList<SendBackResult>> ResendDeadLetters(IReadOnlyList<string>? msgIds);
}
