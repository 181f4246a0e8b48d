using OrleansMQ.Filtering;

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

    /// <summary>
    /// The expression messages are selected by, in the language <see cref="SelectorType"/> names: a tag expression
    /// (<c>*</c>, <c>A</c>, <c>A || B</c>) or an SQL92 condition over user properties (<c>amount &gt; 100</c>). Default every message.
    /// </summary>
    public string SelectorExpression { get; set; } = "*";

    /// <summary>Tag (default) or SQL92, as rocketmq-spring's <c>selectorType</c>. See docs/filtering.md.</summary>
    public ExpressionType SelectorType { get; set; } = ExpressionType.Tag;

    /// <summary>The subscription's selector.</summary>
    internal MessageSelector Selector => SelectorType == ExpressionType.Sql92 ? MessageSelector.BySql(SelectorExpression) : MessageSelector.ByTag(SelectorExpression);

    /// <summary>Concurrently (default) or orderly.</summary>
    public ConsumeMode ConsumeMode { get; set; } = ConsumeMode.Concurrently;
}
