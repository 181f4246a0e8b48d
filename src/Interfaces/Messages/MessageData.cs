namespace OrleansMQ.Messages;

/// <summary>
/// A message on its way to a queue: what the producer set plus the id and birth stamp the client
/// assigns. Immutable so Orleans hands it to a grain on the same silo without copying the body.
/// </summary>
// Serialized by MessageDataCodec (one field per message), not a generated codec; [Immutable] lets Orleans pass it
// between grains of one silo without copying.
[Immutable]
public sealed record MessageData(
    string MsgId,
    string? Tag,
    IReadOnlyList<string> Keys,
    byte[] Body,
    IReadOnlyDictionary<string, string>? Properties,
    DateTimeOffset BornAt,
    string? BornHost,
    string? ProducerGroup,
    int ReconsumeTimes = 0);
