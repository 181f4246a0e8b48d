using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Storage;

/// <summary>What a consumer group keeps durably besides offsets: the horizon its orderly queue locks never outlive.</summary>
internal interface IConsumerGroupStore
{
    /// <summary>The group's lock horizon, or null when it never granted a lock.</summary>
    Task<DateTimeOffset?> GetLockHorizonAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>Moves the group's lock horizon to <paramref name="horizon"/> (never backwards); durable when it returns.</summary>
    Task SaveLockHorizonAsync(string group, DateTimeOffset horizon, CancellationToken cancellationToken = default);
}

/// <summary>Offsets of broadcasting consumers: one set per (group, instance name).</summary>
internal interface IBroadcastOffsetStore
{
    /// <summary>Every committed offset of one instance.</summary>
    Task<Dictionary<MessageQueue, long>> LoadAsync(string group, string instanceName, CancellationToken cancellationToken = default);

    /// <summary>Upserts offsets of one instance.</summary>
    Task SaveAsync(string group, string instanceName, IReadOnlyCollection<KeyValuePair<MessageQueue, long>> offsets, CancellationToken cancellationToken = default);
}
