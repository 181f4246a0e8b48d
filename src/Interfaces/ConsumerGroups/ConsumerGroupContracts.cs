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

/// <summary>One topic a consumer instance subscribes to.</summary>
[GenerateSerializer, Immutable]
public sealed record Subscription(
    [property: Id(0)] string Topic,
    [property: Id(1)] string Expression);

/// <summary>A consumer instance's heartbeat: who it is and what it subscribes to.</summary>
[GenerateSerializer, Immutable]
public sealed record ConsumerHeartbeat(
    [property: Id(0)] string ClientId,
    [property: Id(1)] IReadOnlyList<Subscription> Subscriptions,
    [property: Id(2)] MessageModel MessageModel,
    [property: Id(3)] ConsumeFromWhere ConsumeFromWhere,
    [property: Id(4)] string? Host = null);

/// <summary>The live instances of a group, sorted by client id, with a version that changes when they change.</summary>
[GenerateSerializer, Immutable]
public sealed record GroupMembership(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<string> ClientIds);

/// <summary>One live instance, as <c>group describe</c> shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record ConsumerInstanceInfo(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string? Host,
    [property: Id(2)] IReadOnlyList<Subscription> Subscriptions,
    [property: Id(3)] MessageModel MessageModel,
    [property: Id(4)] DateTimeOffset LastHeartbeat);
