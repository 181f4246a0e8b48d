using Microsoft.Extensions.Logging;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// THE give-up point of orderly consumption: what happens to a message that failed more than
/// <see cref="PushConsumerOptions.MaxReconsumeTimes"/> times in a row. RocketMQ sends it to <c>%DLQ%{group}</c> and
/// moves on. Until broker-side retry and DLQ exist, it is retried in place forever (the queue never skips ahead) and
/// each crossing is logged as an error. Wire the DLQ here: store the message on the DLQ, then return true.
/// </summary>
internal static class OrderlyReconsumeLimit
{
    /// <summary>
    /// Called each time <paramref name="message"/> failed again after its limit. Returns true when the message was
    /// disposed of (the queue moves past it), false to keep retrying it in place after the suspend time.
    /// </summary>
    public static Task<bool> OnMaxReconsumeTimesExceededAsync(ILogger logger, string group, MessageExt message, int failures, int maxReconsumeTimes)
    {
        // Once when the limit is crossed, then every 100th attempt: the message is still blocking its queue.
        if (failures == maxReconsumeTimes + 1 || (failures - maxReconsumeTimes) % 100 == 0)
        {
            logger.OrderlyMaxReconsumeTimesExceeded(group, message.Queue.ToString(), message.QueueOffset, message.MsgId, failures, maxReconsumeTimes);
        }
        return Task.FromResult(false);
    }
}
