using OrleansMQ.Messages;

namespace OrleansMQ.Client.Hosting;

/// <summary>
/// Handles one message of a consumer registered with <see cref="OrleansMQBuilder.AddConsumer{THandler}(Action{HostedConsumerOptions})"/>, as
/// rocketmq-spring's <c>RocketMQListener&lt;MessageExt&gt;</c>. Resolved from the service provider in a fresh scope
/// for every message, so it may depend on scoped services (a DbContext, a unit of work).
/// </summary>
/// <remarks>
/// Returning consumes the message. Throwing does not lose it: a concurrent consumer sends it back for a retry with
/// growing delays (10 s, 30 s, 1 m, …) and dead-letters it after <see cref="PushConsumerOptions.MaxReconsumeTimes"/>;
/// an orderly consumer suspends the queue and retries the same message in place.
/// </remarks>
public interface IMessageHandler
{
    /// <summary>Handles <paramref name="message"/>; <paramref name="cancellationToken"/> is cancelled when the consumer stops.</summary>
    Task HandleAsync(MessageExt message, CancellationToken cancellationToken);
}

/// <summary>
/// Handles one message whose body is the JSON of a <typeparamref name="TPayload"/>, as rocketmq-spring's
/// <c>RocketMQListener&lt;T&gt;</c>. A body that is not valid JSON for <typeparamref name="TPayload"/> fails like a
/// thrown handler (retried, then dead-lettered), so a bad message is kept for inspection rather than dropped.
/// </summary>
/// <typeparam name="TPayload">The type the body is deserialized to with System.Text.Json (web defaults: camelCase, case-insensitive).</typeparam>
public interface IMessageHandler<in TPayload>
{
    /// <summary>Handles the deserialized <paramref name="payload"/> of <paramref name="message"/>.</summary>
    Task HandleAsync(TPayload payload, MessageExt message, CancellationToken cancellationToken);
}
