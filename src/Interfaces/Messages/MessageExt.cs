namespace OrleansMQ.Messages;

/// <summary>
/// A stored message as consumers see it (RocketMQ's MessageExt): the message plus where and when
/// the broker stored it.
/// </summary>
// Serialized by MessageExtCodec (one field per message), not a generated codec; [Immutable] lets Orleans pass it
// between grains of one silo without copying.
[Immutable]
public sealed record MessageExt(
    string Topic,
    int QueueId,
    long QueueOffset,
    string MsgId,
    string? Tag,
    IReadOnlyList<string> Keys,
    byte[] Body,
    IReadOnlyDictionary<string, string>? Properties,
    DateTimeOffset BornAt,
    DateTimeOffset StoredAt,
    int ReconsumeTimes,
    string? ProducerGroup,
    string? BornHost)
{
    private readonly MessageQueue? _queue;

    /// <summary>
    /// The queue the message was read from, which <see cref="QueueId"/> and <see cref="QueueOffset"/> belong to. For a
    /// message a push consumer redelivers from its group's retry topic, <see cref="Topic"/> is the original topic while
    /// this still names the retry queue (<c>%RETRY%group:0</c>).
    /// </summary>
    public MessageQueue Queue
    {
        get => _queue ?? new(Topic, QueueId);
        init => _queue = value;
    }

    /// <summary>The body decoded as UTF-8.</summary>
    public string BodyAsString() => System.Text.Encoding.UTF8.GetString(Body);

    /// <summary>A user property, or null.</summary>
    public string? GetProperty(string name) => Properties is not null && Properties.TryGetValue(name, out var v) ? v : null;
}
