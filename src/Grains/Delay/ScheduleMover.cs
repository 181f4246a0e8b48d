using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Delay;

/// <summary>What became of one due message.</summary>
internal enum MoveOutcome
{
    /// <summary>Committed on its real queue.</summary>
    Delivered,
    /// <summary>Its destination is gone (topic deleted, queue removed, no destination): it can never be delivered.</summary>
    Dropped,
    /// <summary>The store or the real queue failed for now; try again later.</summary>
    Failed,
}

/// <summary>One due message's move: where it went and when it was stored there.</summary>
internal readonly record struct MoveResult(MessageExt Scheduled, MoveOutcome Outcome, DateTimeOffset StoredAt, string? Error);

/// <summary>
/// Moves due scheduled messages to their real queues: one append per real queue (split at the batch limits),
/// in schedule order within each queue, all queues at once. Appending is the commit: a message is delivered
/// when its append returned, and the caller advances its schedule only after that (at-least-once).
/// </summary>
internal static class ScheduleMover
{
    private const int MaxMessagesPerAppend = 256;

    public static async Task<IReadOnlyList<MoveResult>> MoveAsync(IGrainFactory grains, IReadOnlyList<MessageExt> due, int maxBatchBytes)
    {
        var results = new List<MoveResult>(due.Count);
        var byQueue = new Dictionary<MessageQueue, List<MessageExt>>();
        foreach (var message in due)
        {
            if (ScheduledMessages.TryDestination(message) is not { } destination)
            {
                results.Add(new MoveResult(message, MoveOutcome.Dropped, default, "it carries no destination"));
                continue;
            }
            if (!byQueue.TryGetValue(destination, out var list)) byQueue[destination] = list = [];
            list.Add(message);
        }
        var moves = await Task.WhenAll(byQueue.Select(pair => MoveToQueueAsync(grains, pair.Key, pair.Value, maxBatchBytes)));
        foreach (var move in moves) results.AddRange(move);
        return results;
    }

    private static async Task<List<MoveResult>> MoveToQueueAsync(IGrainFactory grains, MessageQueue destination, List<MessageExt> messages, int maxBatchBytes)
    {
        var queue = grains.GetGrain<IQueueGrain>(destination.QueueId, destination.Topic);
        var results = new List<MoveResult>(messages.Count);
        var start = 0;
        while (start < messages.Count)
        {
            var chunk = new List<MessageData>();
            var bytes = 0L;
            while (start + chunk.Count < messages.Count && chunk.Count < MaxMessagesPerAppend)
            {
                var data = ScheduledMessages.ForDelivery(messages[start + chunk.Count]);
                var size = MessageRules.SizeOf(data);
                if (chunk.Count > 0 && bytes + size > maxBatchBytes) break;
                chunk.Add(data);
                bytes += size;
            }
            var scheduled = messages.GetRange(start, chunk.Count);
            start += chunk.Count;
            try
            {
                var appended = await queue.Append(new AppendRequest(chunk));
                results.AddRange(scheduled.Select(m => new MoveResult(m, MoveOutcome.Delivered, appended.StoredAt, null)));
            }
            catch (MQException e) when (!e.IsRetryable && e.Code is MQErrorCode.TopicDeleted or MQErrorCode.TopicNotFound or MQErrorCode.QueueNotFound
                                            or MQErrorCode.EmptyBody or MQErrorCode.BodyTooLarge or MQErrorCode.InvalidProperties or MQErrorCode.InvalidTag or MQErrorCode.InvalidKeys)
            {
                results.AddRange(scheduled.Select(m => new MoveResult(m, MoveOutcome.Dropped, default, e.Message)));
            }
            catch (Exception e)
            {
                // Not delivered (or unknown): this and every later message of the queue wait, so the queue's order holds.
                foreach (var m in messages.Skip(start - chunk.Count))
                {
                    results.Add(new MoveResult(m, MoveOutcome.Failed, default, e.Message));
                }
                return results;
            }
        }
        return results;
    }
}
