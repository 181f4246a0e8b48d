using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Delay;
using OrleansMQ.Grains.Delay;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Grains.Transactions;
using OrleansMQ.Queues;

namespace OrleansMQ.Grains.Retention;

/// <summary>
/// Removes messages older than their topic's retention (default 72 h), queue by queue, lowest offsets
/// first, in short bounded deletes (RocketMQ deletes expired CommitLog files; here the unit is a row range).
/// A queue always keeps its newest message, whatever its age: the queue's next offset is derived from it,
/// so offsets never restart. Consumers behind the new min offset resume at it (OffsetIllegal, as RocketMQ).
/// The schedules are the exception: timer rows are deleted as they are delivered and are skipped here, and a
/// delay level's queue loses only rows its level has already delivered. Half messages are not in the message log;
/// the records of resolved transactions go after <see cref="BrokerOptions.TransactionRecordRetention"/>, pending
/// ones never.
/// </summary>
internal sealed partial class RetentionSweeper(
    ITopicStore topics,
    IScheduleStore schedules,
    IMessageStore messages,
    IMessageQueryStore queries,
    IGrainFactory grains,
    ITransactionStore transactions,
    IOptions<BrokerOptions> options,
    ILogger<RetentionSweeper> logger)
{
    private readonly int _batch = options.Value.RetentionDeleteBatch;
    private readonly TimeSpan _transactionRecordRetention = options.Value.TransactionRecordRetention;

    /// <summary>One pass over every live topic; returns how many messages were removed.</summary>
    public async Task<long> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        long removed = 0;
        foreach (var topic in await topics.ListAsync(cancellationToken))
        {
            if (topic.Name == ScheduleTopics.TimerTopic)
            {
                // Timer rows are deleted when delivered; a pending one may be due up to the timer horizon (30 days) ahead.
                continue;
            }
            var expiry = now - TimeSpan.FromHours(topic.RetentionHours);
            for (var queueId = 0; queueId < topic.Queues; queueId++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                removed += await SweepQueueAsync(topic.Name, queueId, expiry, cancellationToken);
            }
        }
        await SweepTransactionRecordsAsync(now - _transactionRecordRetention, cancellationToken);
        return removed;
    }

    private async Task SweepTransactionRecordsAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        long removed = 0;
        int deleted;
        do
        {
            deleted = await transactions.DeleteResolvedBeforeAsync(before, _batch, cancellationToken);
            removed += deleted;
        }
        while (deleted == _batch);
        if (removed > 0) LogTransactionRecordsRemoved(removed, before);
    }

    private async Task<long> SweepQueueAsync(string topic, int queueId, DateTimeOffset expiry, CancellationToken cancellationToken)
    {
        var bounds = await messages.GetBoundsAsync(topic, queueId, cancellationToken);
        if (bounds.NextOffset == 0 || bounds.LastStoredAt is null)
        {
            return 0;
        }
        // Everything below the first offset stored at or after the expiry is expired, except the newest row.
        var cutoff = Math.Min(await queries.SearchOffsetAsync(topic, queueId, expiry, cancellationToken), bounds.NextOffset - 1);
        if (topic == ScheduleTopics.DelayTopic)
        {
            // A delay level's queue: only what the level already delivered may go, however old the rest is.
            cutoff = Math.Min(cutoff, await schedules.LoadDelayOffsetAsync(queueId + 1, cancellationToken) ?? bounds.MinOffset);
        }
        if (cutoff <= bounds.MinOffset)
        {
            return 0;
        }
        long removed = 0;
        int deleted;
        do
        {
            deleted = await queries.DeleteBeforeAsync(topic, queueId, cutoff, _batch, cancellationToken);
            removed += deleted;
        }
        while (deleted == _batch);

        LogRemoved(topic, queueId, removed, cutoff, expiry);
        await grains.GetGrain<IQueueGrain>(queueId, topic).OnMessagesExpired(cutoff);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: removed {Count} record(s) of transactions resolved before {Before:u}")]
    private partial void LogTransactionRecordsRemoved(long count, DateTimeOffset before);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: removed {Count} message(s) of {Topic}:{QueueId} stored before {Expiry:u}; the queue now starts at offset {MinOffset}")]
    private partial void LogRemoved(string topic, int queueId, long count, long minOffset, DateTimeOffset expiry);
}
