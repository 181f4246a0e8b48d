using Microsoft.Extensions.Logging;
using OrleansMQ.Broadcasting;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// Where a push consumer keeps its committed offsets, as RocketMQ's OffsetStore: with the group on the queue grains
/// (clustering: RemoteBrokerOffsetStore), or per instance (broadcasting: RocketMQ's LocalFileOffsetStore, here in
/// Postgres behind the instance's <see cref="IBroadcastOffsetGrain"/> so it survives a new machine too).
/// </summary>
internal interface IConsumerOffsetStore
{
    /// <summary>Whether pulls carry the offset to commit (clustering); otherwise only <see cref="CommitAsync"/> commits.</summary>
    bool CommitsRideOnPulls { get; }

    /// <summary>Where consumption of <paramref name="queue"/> starts: the committed offset, or per ConsumeFromWhere (then committed at once).</summary>
    Task<long> ResolveStartOffsetAsync(MessageQueue queue, CancellationToken cancellationToken);

    /// <summary>Commits the offset (next to consume); <paramref name="flush"/>: durable when it returns.</summary>
    Task CommitAsync(MessageQueue queue, long offset, bool flush, CancellationToken cancellationToken);

    /// <summary>The store for a consumer's message model.</summary>
    static IConsumerOffsetStore For(IGrainFactory grains, ConsumerOptions options, ILogger logger) =>
        options.Model == MessageModel.Broadcasting
            ? new BroadcastOffsetStore(grains, options, logger)
            : new GroupOffsetStore(grains, options, logger);
}

/// <summary>Clustering: the group's offsets, kept by each queue grain.</summary>
internal sealed class GroupOffsetStore(IGrainFactory grains, ConsumerOptions options, ILogger logger) : IConsumerOffsetStore
{
    public bool CommitsRideOnPulls => true;

    public Task<long> ResolveStartOffsetAsync(MessageQueue queue, CancellationToken cancellationToken) =>
        QueueCalls.ResolveStartOffsetAsync(grains, queue, options.ConsumerGroup, options.ConsumeFromWhere, options.ConsumeTimestamp, logger, cancellationToken);

    public Task CommitAsync(MessageQueue queue, long offset, bool flush, CancellationToken cancellationToken) =>
        QueueCalls.CommitOffsetAsync(grains, queue, options.ConsumerGroup, offset, flush, cancellationToken);
}

/// <summary>Broadcasting: this instance's own offsets, under its <see cref="ConsumerOptions.InstanceName"/>.</summary>
internal sealed class BroadcastOffsetStore(IGrainFactory grains, ConsumerOptions options, ILogger logger) : IConsumerOffsetStore
{
    private readonly IBroadcastOffsetGrain _grain = grains.GetGrain<IBroadcastOffsetGrain>(BroadcastOffsetKey.Of(options.ConsumerGroup, options.InstanceName));

    public bool CommitsRideOnPulls => false;

    public async Task<long> ResolveStartOffsetAsync(MessageQueue queue, CancellationToken cancellationToken)
    {
        var committed = await BrokerErrors.Call(() => _grain.GetOffset(queue), $"read the broadcast offset of instance '{options.InstanceName}' on {queue}", cancellationToken)
            .ConfigureAwait(false);
        if (committed >= 0)
        {
            return committed;
        }
        var start = await QueueCalls.StartOffsetOfNewConsumerAsync(grains, queue, options.ConsumeFromWhere, options.ConsumeTimestamp, cancellationToken).ConfigureAwait(false);
        // Committed at once, so a restart before the first commit starts from the same place.
        await CommitAsync(queue, start, flush: true, cancellationToken).ConfigureAwait(false);
        logger.StartingWithoutOffset($"{options.ConsumerGroup}@{options.InstanceName}", queue.ToString(), start, options.ConsumeFromWhere);
        return start;
    }

    public Task CommitAsync(MessageQueue queue, long offset, bool flush, CancellationToken cancellationToken) =>
        BrokerErrors.Call(() => _grain.Commit(queue, offset, flush), $"commit the broadcast offset {offset} of instance '{options.InstanceName}' on {queue}", cancellationToken);
}
