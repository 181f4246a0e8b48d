using Microsoft.Extensions.Logging;
using OrleansMQ.Queues;

namespace OrleansMQ.Client;

/// <summary>
/// The push consumer's pull loop for one assigned queue (RocketMQ's PullMessageService plus PullCallback):
/// resolve the start offset, then long-poll <c>IQueueGrain.Pull</c> with the offset to commit riding along,
/// cache what arrives in the <see cref="ProcessQueue"/> and hand it to the listeners. Pauses while the process
/// queue is over its thresholds; on errors logs and backs off, never ends until cancelled or dropped.
/// </summary>
internal sealed class PullMessageLoop
{
    /// <summary>Pause before pulling again while a queue is over its cache thresholds (RocketMQ's PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL).</summary>
    internal static readonly TimeSpan FlowControlDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Pause after a failed pull.</summary>
    internal static readonly TimeSpan ErrorBackoff = TimeSpan.FromSeconds(1);

    private readonly IGrainFactory _grains;
    private readonly PushConsumerOptions _options;
    private readonly SubscriptionTable _subscriptions;
    private readonly IConsumeMessageService _consumeService;
    private readonly IConsumerOffsetStore _offsets;
    private readonly OrderlyQueueLocks? _locks;
    private readonly Action _requestRebalance;
    private readonly ILogger _logger;
    private long _flowControlTimes;

    /// <param name="grains">Where the queue grains are.</param>
    /// <param name="options">The consumer's settings.</param>
    /// <param name="subscriptions">The tag expression of each topic.</param>
    /// <param name="consumeService">Where pulled messages go.</param>
    /// <param name="offsets">Where the start offset comes from (and whether pulls carry commits).</param>
    /// <param name="locks">For an orderly consumer: a queue is pulled only while locked (and its start offset read only once locked).</param>
    /// <param name="requestRebalance">Called when a queue's topic or queue is gone, so the rebalance drops it without waiting for its interval.</param>
    /// <param name="logger">Where pull failures are reported.</param>
    public PullMessageLoop(
        IGrainFactory grains, PushConsumerOptions options, SubscriptionTable subscriptions, IConsumeMessageService consumeService,
        IConsumerOffsetStore offsets, OrderlyQueueLocks? locks, Action requestRebalance, ILogger logger)
    {
        _offsets = offsets;
        _locks = locks;
        _requestRebalance = requestRebalance;
        _grains = grains;
        _options = options;
        _subscriptions = subscriptions;
        _consumeService = consumeService;
        _logger = logger;
    }

    /// <summary>Pulls for <paramref name="processQueue"/> until it is dropped or <paramref name="cancellationToken"/> is cancelled. Never throws.</summary>
    public async Task RunAsync(ProcessQueue processQueue, CancellationToken cancellationToken)
    {
        var queue = processQueue.Queue;
        var group = _options.ConsumerGroup;
        while (!cancellationToken.IsCancellationRequested && !processQueue.IsDropped)
        {
            try
            {
                if (_locks is not null && !_locks.IsLocked(queue))
                {
                    // Orderly: nothing is pulled (or read as start offset) before the lock is ours; the previous owner
                    // flushed its offset before releasing it.
                    await _locks.AcquireAsync(queue, () => !processQueue.IsDropped, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!processQueue.IsStarted)
                {
                    var start = await _offsets.ResolveStartOffsetAsync(queue, cancellationToken).ConfigureAwait(false);
                    if (_locks?.TakeHandoverOffset(queue) is { } handedOver && handedOver > start)
                    {
                        // The previous holder's last commit was overtaken by an older one of its own: start after what it consumed.
                        await _offsets.CommitAsync(queue, handedOver, flush: true, cancellationToken).ConfigureAwait(false);
                        start = handedOver;
                    }
                    processQueue.AdvanceTo(start);
                    processQueue.LastCommittedOffset = start;
                    continue;
                }
                if (processQueue.IsOverThreshold(_options.PullThresholdForQueue, _options.PullThresholdBytesForQueue))
                {
                    // RocketMQ logs every 1000th flow-control pause; the first one says it is happening at all.
                    if (Interlocked.Increment(ref _flowControlTimes) % 1000 == 1)
                    {
                        _logger.FlowControl(group, queue.ToString(), processQueue.Count, processQueue.Bytes / (1024 * 1024), _flowControlTimes);
                    }
                    await Task.Delay(FlowControlDelay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var commit = processQueue.OffsetToCommit;
                var commitOffset = _offsets.CommitsRideOnPulls && commit >= 0 && commit != processQueue.LastCommittedOffset ? commit : -1;
                var filter = _subscriptions.PullFilter(queue.Topic);
                var request = new PullRequest(group, processQueue.NextOffset, _options.PullBatchSize, filter?.Text, commitOffset, _options.PullSuspendTimeout,
                    ExpressionType: filter?.Type ?? Filtering.ExpressionType.Tag);
                var result = await QueueCalls.PullAsync(_grains, queue, request, cancellationToken).ConfigureAwait(false);
                if (commitOffset >= 0)
                {
                    processQueue.LastCommittedOffset = commitOffset;
                }
                if (processQueue.IsDropped)
                {
                    return;
                }
                switch (result.Status)
                {
                    case PullStatus.Found:
                        var fresh = processQueue.PutMessages(_subscriptions.Refilter(queue.Topic, filter, result.Messages), result.NextBeginOffset);
                        if (fresh.Count > 0)
                        {
                            _consumeService.Submit(processQueue, fresh);
                        }
                        break;
                    case PullStatus.OffsetIllegal:
                        _logger.OffsetIllegal(group, queue.ToString(), request.QueueOffset, result.NextBeginOffset, result.MinOffset, result.MaxOffset);
                        processQueue.AdvanceTo(result.NextBeginOffset);
                        break;
                    default:
                        processQueue.AdvanceTo(result.NextBeginOffset);
                        break;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var error = BrokerErrors.ToPublic(ex, $"pull from {queue}");
                _logger.PullFailed(group, queue.ToString(), error.Message, ErrorBackoff);
                if (error is MQException { Code: MQErrorCode.TopicNotFound or MQErrorCode.TopicDeleted or MQErrorCode.QueueNotFound })
                {
                    _requestRebalance();
                }
                try
                {
                    await Task.Delay(ErrorBackoff, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
