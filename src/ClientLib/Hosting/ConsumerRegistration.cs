namespace OrleansMQ.Client.Hosting;

/// <summary>How a registered consumer runs its handler, as rocketmq-spring's <c>consumeMode</c>.</summary>
public enum ConsumeMode
{
    /// <summary>Messages are handled on the thread pool, up to <see cref="PushConsumerOptions.ConsumeThreadCount"/> at once.</summary>
    Concurrently = 0,

    /// <summary>Each queue is handled one message at a time, in queue order, while this instance holds the queue's broker lock.</summary>
    Orderly = 1,
}

/// <summary>
/// A consumer hosted by the application's generic host, as rocketmq-spring's <c>@RocketMQMessageListener</c>: the
/// push consumer's settings plus the subscription and how the handler runs.
/// </summary>
public sealed class HostedConsumerOptions
{
    /// <summary>The push consumer's settings; <see cref="ConsumerOptions.ConsumerGroup"/> is required.</summary>
    public PushConsumerOptions Consumer { get; } = new();

    /// <summary>The topic to consume. Required.</summary>
    public string Topic { get; set; } = "";

    /// <summary>The tag expression (<c>*</c>, <c>A</c>, <c>A || B</c>). Default every message.</summary>
    public string SelectorExpression { get; set; } = "*";

    /// <summary>Concurrently (default) or orderly.</summary>
    public ConsumeMode ConsumeMode { get; set; } = ConsumeMode.Concurrently;
}
