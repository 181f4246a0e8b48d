using OrleansMQ.Messages;
using OrleansMQ.Retry;

namespace OrleansMQ.Client;

/// <summary>Where a consumer hands back a message it could not consume (the broker, through <see cref="SendBackService"/>).</summary>
internal interface IConsumerSendBack
{
    /// <summary>Hands a failed message (as it was pulled) back; durable when this returns. Throws when the broker did not take it.</summary>
    Task<SendBackResult> SendBackAsync(MessageExt message, CancellationToken cancellationToken);
}

/// <summary>
/// A consumer's way back to the broker for messages it could not consume (RocketMQ's sendMessageBack): the
/// broker schedules them on the group's retry topic with delay level 3 + reconsumeTimes, or puts them in the
/// group's dead-letter queue once reconsumeTimes reached maxReconsumeTimes.
/// </summary>
/// <remarks>
/// Concurrent consumers call <see cref="SendBackAsync"/>. Consumers that retry in place (orderly consumers) call
/// <see cref="SendToDeadLetterAsync"/> themselves after maxReconsumeTimes local attempts, so they never skip ahead.
/// Broadcasting consumers do not retry through the broker (as RocketMQ): a failed broadcast message is only logged.
/// </remarks>
internal sealed class SendBackService(IGrainFactory grains, string group, int maxReconsumeTimes) : IConsumerSendBack
{
    private readonly IRetryGrain _retry = grains.GetGrain<IRetryGrain>(group);

    /// <summary>The group's maxReconsumeTimes, sent with every send-back.</summary>
    public int MaxReconsumeTimes => maxReconsumeTimes;

    /// <summary>Makes sure the group's retry topic exists, so the consumer's subscription to it is served at once.</summary>
    public Task EnsureRetryTopicAsync(CancellationToken cancellationToken) =>
        BrokerErrors.Call(() => _retry.EnsureRetryTopic(), $"prepare the retry topic of group '{group}'", cancellationToken);

    /// <summary>Hands a failed message (as it was pulled) back to the broker; durable when this returns.</summary>
    public Task<SendBackResult> SendBackAsync(MessageExt message, CancellationToken cancellationToken) =>
        BrokerErrors.Call(() => _retry.SendBack(new SendBackRequest(message, maxReconsumeTimes)), $"send message {message.MsgId} back to group '{group}'", cancellationToken);

    /// <summary>Puts a message into the group's dead-letter queue at once (orderly consumers after maxReconsumeTimes).</summary>
    public Task<SendBackResult> SendToDeadLetterAsync(MessageExt message, string reason, CancellationToken cancellationToken) =>
        BrokerErrors.Call(() => _retry.SendToDeadLetter(message, reason), $"dead-letter message {message.MsgId} of group '{group}'", cancellationToken);
}
