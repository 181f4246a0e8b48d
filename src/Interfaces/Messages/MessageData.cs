namespace OrleansMQ.Messages;

/// <summary>
/// A message on its way to a queue: what the producer set plus the id and birth stamp the client
/// assigns. Immutable so Orleans hands it to a grain on the same silo without copying the body.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MessageData(
    [property: Id(0)] string MsgId,
    [property: Id(1)] string? Tag,
    [property: Id(2)] IReadOnlyList<string> Keys,
    [property: Id(3)] byte[] Body,
    [property: Id(4)] IReadOnlyDictionary<string, string>? Properties,
    [property: Id(5)] DateTimeOffset BornAt,
    [property: Id(6)] string? BornHost,
    [property: Id(7)] string? ProducerGroup,
    [property: Id(8)] int ReconsumeTimes = 0);
