namespace OrleansMQ.Messages;

/// <summary>
/// A stored message as consumers see it (RocketMQ's MessageExt): the message plus where and when
/// the broker stored it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MessageExt(
    [property: Id(0)] string Topic,
    [property: Id(1)] int QueueId,
    [property: Id(2)] long QueueOffset,
    [property: Id(3)] string MsgId,
    [property: Id(4)] string? Tag,
    [property: Id(5)] IReadOnlyList<string> Keys,
    [property: Id(6)] byte[] Body,
    [property: Id(7)] IReadOnlyDictionary<string, string>? Properties,
    [property: Id(8)] DateTimeOffset BornAt,
    [property: Id(9)] DateTimeOffset StoredAt,
    [property: Id(10)] int ReconsumeTimes,
    [property: Id(11)] string? ProducerGroup,
    [property: Id(12)] string? BornHost)
{
    /// <summary>The queue the message is stored in.</summary>
    public MessageQueue Queue => new(Topic, QueueId);

    /// <summary>The body decoded as UTF-8.</summary>
    public string BodyAsString() => System.Text.Encoding.UTF8.GetString(Body);

    /// <summary>A user property, or null.</summary>
    public string? GetProperty(string name) => Properties is not null && Properties.TryGetValue(name, out var v) ? v : null;
}
