using System.Text;

namespace OrleansMQ.Client;

/// <summary>
/// A message to send, as RocketMQ's <c>Message</c>: mutable, so it can be built up field by field. The
/// producer takes a snapshot of it (and assigns the message id) when it is sent, except for
/// <see cref="Body"/>, which is sent without copying: do not change the array until the send completed.
/// </summary>
public sealed class Message
{
    /// <summary>An empty message; set <see cref="Topic"/> and <see cref="Body"/> before sending.</summary>
    public Message()
    {
        Topic = "";
        Body = [];
    }

    /// <summary>A message with a binary body.</summary>
    public Message(string topic, byte[] body)
    {
        Topic = topic;
        Body = body;
    }

    /// <summary>A message with a text body, encoded as UTF-8.</summary>
    public Message(string topic, string body)
        : this(topic, Encoding.UTF8.GetBytes(body ?? throw new ArgumentNullException(nameof(body))))
    {
    }

    /// <summary>The topic to send to.</summary>
    public string Topic { get; set; }

    /// <summary>The payload: at least one byte, at most <see cref="ProducerOptions.MaxBodyBytes"/>.</summary>
    public byte[] Body { get; set; }

    /// <summary>The tag consumers filter on (<c>Subscribe("orders", "created || paid")</c>); at most one per message.</summary>
    public string? Tag { get; set; }

    /// <summary>Business keys (an order id, …) the message can be looked up by.</summary>
    public List<string> Keys { get; set; } = [];

    /// <summary>
    /// The message group of an ordered message (RocketMQ 5's messageGroup): messages with the same group go to the
    /// same queue (by the same hash as <see cref="SelectMessageQueueByHash"/>), so an orderly consumer sees them in
    /// send order. Stored as the <c>__SHARDINGKEY</c> property. Null: not ordered (round-robin).
    /// </summary>
    public string? MessageGroup { get; set; }

    /// <summary>User properties, at most 32 KiB in all.</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Deliver the message only after the delay of this level (RocketMQ's delayTimeLevel): 1 to the cluster's
    /// level count, by default <c>1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h</c>. 0: at once.
    /// </summary>
    public int DelayLevel { get; set; }

    /// <summary>
    /// Deliver the message at this time (a RocketMQ 5 timer message), up to the broker's timer horizon ahead
    /// (default 24 h). A time in the past delivers at once. Not together with <see cref="DelayLevel"/>.
    /// </summary>
    public DateTimeOffset? DeliverAt { get; set; }

    /// <summary>Deliver the message this long after it is sent (a timer message); the producer turns it into <see cref="DeliverAt"/>.</summary>
    public TimeSpan? DeliverAfter { get; set; }

    /// <summary>The body decoded as UTF-8.</summary>
    public string BodyAsString() => Encoding.UTF8.GetString(Body ?? []);

    /// <inheritdoc />
    public override string ToString() =>
        $"Message(Topic={Topic}, Tag={Tag}, Keys=[{string.Join(",", Keys ?? [])}], Body={Body?.Length ?? 0} bytes, Properties={Properties?.Count ?? 0})";
}
