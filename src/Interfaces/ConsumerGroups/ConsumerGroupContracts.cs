using OrleansMQ.Filtering;

namespace OrleansMQ.ConsumerGroups;

/// <summary>Clustering: each message to one instance of the group. Broadcasting: to every instance.</summary>
public enum MessageModel
{
    Clustering = 0,
    Broadcasting = 1,
}

/// <summary>Where a group with no committed offset on a queue starts.</summary>
public enum ConsumeFromWhere
{
    /// <summary>At the end: only messages stored from now on (RocketMQ's default).</summary>
    LastOffset = 0,
    /// <summary>At the oldest message still stored.</summary>
    FirstOffset = 1,
    /// <summary>At the first message stored at or after the consumer's consume timestamp (RocketMQ's CONSUME_FROM_TIMESTAMP).</summary>
    Timestamp = 2,
}

/// <summary>One topic a consumer instance subscribes to, with its filter expression and the expression's language.</summary>
[GenerateSerializer, Immutable]
public sealed record Subscription(
    [property: Id(0)] string Topic,
    [property: Id(1)] string Expression,
    [property: Id(2)] ExpressionType ExpressionType = ExpressionType.Tag)
{
    /// <summary>How <c>group describe</c> and logs show it: <c>created || paid</c>, or <c>SQL92: a &gt; 5</c>.</summary>
    public string Describe() => MessageSelector.Describe(ExpressionType, Expression);
}

/// <summary>
/// A consumer instance's heartbeat: who it is and what it subscribes to; also (all optional) the observer the
/// group grain notifies of changes (re-sent with every heartbeat, as observers are not durable), the queues it
/// consumes and the orderly locks it holds (re-asserted after the group grain re-activated), and how it
/// consumes, for <c>group describe</c>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ConsumerHeartbeat(
    [property: Id(0)] string ClientId,
    [property: Id(1)] IReadOnlyList<Subscription> Subscriptions,
    [property: Id(2)] MessageModel MessageModel,
    [property: Id(3)] ConsumeFromWhere ConsumeFromWhere,
    [property: Id(4)] string? Host = null)
{
    /// <summary>Where the group grain tells this instance of membership changes and released locks.</summary>
    [Id(5)] public IConsumerGroupObserver? Observer { get; init; }

    /// <summary>The queues this instance consumes now.</summary>
    [Id(6)] public IReadOnlyList<Messages.MessageQueue>? Assignment { get; init; }

    /// <summary>The orderly queue locks this instance believes it holds (still valid on its own clock).</summary>
    [Id(7)] public IReadOnlyList<Messages.MessageQueue>? HeldLocks { get; init; }

    /// <summary>The name of the allocation strategy the instance uses.</summary>
    [Id(8)] public string? AllocateStrategy { get; init; }

    /// <summary>The instance name, stable across restarts; broadcasting offsets are kept under it.</summary>
    [Id(9)] public string? InstanceName { get; init; }

    /// <summary>Whether the instance consumes orderly (one thread per queue, only while holding the queue's lock).</summary>
    [Id(10)] public bool Orderly { get; init; }
}

/// <summary>What deleting a group removed (mqadmin deleteSubGroup).</summary>
[GenerateSerializer, Immutable]
public sealed record GroupDeletion(
    [property: Id(0)] string Group,
    [property: Id(1)] long OffsetsRemoved,
    [property: Id(2)] IReadOnlyList<string> TopicsDeleted);

/// <summary>The live instances of a group, sorted by client id, with a version that changes when they change.</summary>
[GenerateSerializer, Immutable]
public sealed record GroupMembership(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<string> ClientIds)
{
    /// <summary>The queues each live instance last reported consuming (what a sticky allocation keeps in place).</summary>
    [Id(2)] public IReadOnlyDictionary<string, IReadOnlyList<Messages.MessageQueue>>? Assignments { get; init; }
}

/// <summary>One live instance, as <c>group describe</c> shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record ConsumerInstanceInfo(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string? Host,
    [property: Id(2)] IReadOnlyList<Subscription> Subscriptions,
    [property: Id(3)] MessageModel MessageModel,
    [property: Id(4)] DateTimeOffset LastHeartbeat)
{
    /// <summary>The queues the instance consumes, as it last reported them.</summary>
    [Id(5)] public IReadOnlyList<Messages.MessageQueue> Assignment { get; init; } = [];

    /// <summary>The orderly queue locks the group grain holds for the instance.</summary>
    [Id(6)] public IReadOnlyList<Messages.MessageQueue> Locks { get; init; } = [];

    /// <summary>The instance's allocation strategy.</summary>
    [Id(7)] public string? AllocateStrategy { get; init; }

    /// <summary>The instance's stable name.</summary>
    [Id(8)] public string? InstanceName { get; init; }

    /// <summary>Whether it consumes orderly.</summary>
    [Id(9)] public bool Orderly { get; init; }
}
