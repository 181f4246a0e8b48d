using OrleansMQ.Messages;

namespace OrleansMQ.ConsumerGroups;

/// <summary>
/// The answer to a lock request: the queues the instance now holds (a subset of what it asked for) and how long it
/// may consume them without renewing, counted from when it sent the request. The broker keeps the lock longer
/// (its lease) and never hands it to another instance before this validity ran out, so two instances never consume
/// one queue at once.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record QueueLockResult(
    [property: Id(0)] IReadOnlyList<MessageQueue> Locked,
    [property: Id(1)] TimeSpan ValidFor)
{
    /// <summary>For newly locked queues a previous holder released: the offset it committed last (start no earlier).</summary>
    [Id(2)] public IReadOnlyDictionary<MessageQueue, long>? HandoverOffsets { get; init; }
}
