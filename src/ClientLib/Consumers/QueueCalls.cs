using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Queries;
using OrleansMQ.Queues;

namespace OrleansMQ.Client;

/// <summary>The calls both consumers make to a queue grain: where to start, pull, commit.</summary>
internal static class QueueCalls
{
    /// <summary>How much longer than its suspend time a pull is waited for before it counts as failed (a silo that died mid-pull never answers).</summary>
    internal static readonly TimeSpan PullTimeoutMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where the group starts on a queue: its committed offset, or — for a group new to the queue — where
    /// <see cref="StartOffsetOfNewConsumerAsync"/> says, committed at once so that a restart before the first commit
    /// does not move the starting point.
    /// </summary>
    public static async Task<long> ResolveStartOffsetAsync(
        IGrainFactory grains, MessageQueue queue, string group, ConsumeFromWhere fromWhere, DateTimeOffset timestamp, ILogger logger, CancellationToken cancellationToken)
    {
        var committed = await BrokerErrors.Call(() => Grain(grains, queue).GetCommittedOffset(group), $"read the offset of group '{group}' on {queue}", cancellationToken)
            .ConfigureAwait(false);
        if (committed >= 0)
        {
            return committed;
        }
        var start = await StartOffsetOfNewConsumerAsync(grains, queue, fromWhere, timestamp, cancellationToken).ConfigureAwait(false);
        var stored = await CommitOffsetAsync(grains, queue, group, start, flush: true, cancellationToken).ConfigureAwait(false);
        logger.StartingWithoutOffset(group, queue.ToString(), stored, fromWhere);
        return stored;
    }

    /// <summary>
    /// Where a consumer with no offset on the queue starts (RocketMQ's CONSUME_FROM_LAST_OFFSET / FIRST_OFFSET / TIMESTAMP):
    /// the queue's max or min offset, or the first offset stored from <paramref name="timestamp"/>. A group's retry topic
    /// always starts at its first offset.
    /// </summary>
    public static async Task<long> StartOffsetOfNewConsumerAsync(
        IGrainFactory grains, MessageQueue queue, ConsumeFromWhere fromWhere, DateTimeOffset timestamp, CancellationToken cancellationToken)
    {
        // A group's retry topic holds only its own failed messages: always from the first (RocketMQ's computePullFromWhere does the same),
        // so retries sent back while no instance had positioned itself there are not skipped.
        if (Retry.RetryRules.IsRetryTopic(queue.Topic))
        {
            fromWhere = ConsumeFromWhere.FirstOffset;
        }
        if (fromWhere == ConsumeFromWhere.Timestamp)
        {
            return await BrokerErrors.Call(() => grains.GetGrain<IMessageQueryGrain>(0).SearchOffset(queue.Topic, queue.QueueId, timestamp),
                $"search {queue} for offsets stored from {timestamp:O}", cancellationToken).ConfigureAwait(false);
        }
        var status = await BrokerErrors.Call(() => Grain(grains, queue).GetStatus(), $"read the status of {queue}", cancellationToken).ConfigureAwait(false);
        return fromWhere == ConsumeFromWhere.FirstOffset ? status.MinOffset : status.MaxOffset;
    }

    /// <summary>
    /// One long-poll, waited for at most its suspend time plus <see cref="PullTimeoutMargin"/>. Failures come back
    /// untranslated (callers log them and back off). On cancellation or timeout the parked pull is abandoned and
    /// its late answer dropped.
    /// </summary>
    public static Task<PullResult> PullAsync(IGrainFactory grains, MessageQueue queue, PullRequest request, CancellationToken cancellationToken) =>
        BrokerErrors.WaitAsync(Grain(grains, queue).Pull(request), request.SuspendTimeout + PullTimeoutMargin, cancellationToken);

    /// <summary>Commits the group's offset on a queue (the broker clamps it to the queue's range and returns what it stored).</summary>
    public static Task<long> CommitOffsetAsync(IGrainFactory grains, MessageQueue queue, string group, long offset, bool flush, CancellationToken cancellationToken) =>
        BrokerErrors.Call(() => Grain(grains, queue).CommitOffset(group, offset, flush), $"commit offset {offset} of group '{group}' on {queue}", cancellationToken);

    /// <summary>
    /// Queue grain references per grain factory. Making one resolves the grain interface type and builds a grain id,
    /// a few percent of a consumer's CPU when done for every pull; a process pulls from a bounded set of queues.
    /// </summary>
    private static readonly ConditionalWeakTable<IGrainFactory, ConcurrentDictionary<MessageQueue, IQueueGrain>> References = new();

    private static IQueueGrain Grain(IGrainFactory grains, MessageQueue queue) =>
        References.GetOrCreateValue(grains).GetOrAdd(queue, static (q, factory) => factory.GetGrain<IQueueGrain>(q.QueueId, q.Topic), grains);
}
