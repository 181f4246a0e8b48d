using Microsoft.Extensions.Logging;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// The give-up point of orderly consumption: what happens to messages that failed more than
/// <see cref="PushConsumerOptions.MaxReconsumeTimes"/> times in a row. As RocketMQ, a clustering consumer puts them
/// in <c>%DLQ%{group}</c> (keeping their reconsume count) and the queue moves past them, in order. A broadcasting
/// consumer has no dead-letter queue of its own (RocketMQ does not retry broadcasts through the broker): it keeps
/// retrying in place and logs it, and so does a clustering consumer whose dead-letter call failed, until it succeeds.
/// </summary>
internal static class OrderlyReconsumeLimit
{
    /// <summary>
    /// Called each time <paramref name="batch"/> failed again after its limit. Returns true when the messages were
    /// dead-lettered (the queue moves past them), false to keep retrying them in place after the suspend time.
    /// </summary>
    public static async Task<bool> OnMaxReconsumeTimesExceededAsync(
        ILogger logger, string group, IReadOnlyList<MessageExt> batch, int failures, int maxReconsumeTimes, SendBackService? deadLetters, CancellationToken cancellationToken)
    {
        var first = batch[0];
        if (deadLetters is not null)
        {
            try
            {
                foreach (var message in batch)
                {
                    // The count the DLQ keeps is what happened to the message: its first delivery plus the failed retries.
                    var reason = $"orderly consumption failed {failures} time(s); maxReconsumeTimes is {maxReconsumeTimes}";
                    await deadLetters.SendToDeadLetterAsync(message with { ReconsumeTimes = Math.Max(message.ReconsumeTimes, failures - 1) }, reason, cancellationToken)
                        .ConfigureAwait(false);
                }
                logger.OrderlyDeadLettered(group, first.Queue.ToString(), first.QueueOffset, batch.Count, failures);
                return true;
            }
            catch (MQException ex)
            {
                logger.OrderlyDeadLetterFailed(ex, group, first.Queue.ToString(), first.QueueOffset);
                return false;
            }
        }
        // Once when the limit is crossed, then every 100th attempt: the message is still blocking its queue.
        if (failures == maxReconsumeTimes + 1 || (failures - maxReconsumeTimes) % 100 == 0)
        {
            logger.OrderlyMaxReconsumeTimesExceeded(group, first.Queue.ToString(), first.QueueOffset, first.MsgId, failures, maxReconsumeTimes);
        }
        return false;
    }
}
