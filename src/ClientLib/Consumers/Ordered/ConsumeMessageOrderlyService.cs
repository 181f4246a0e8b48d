using Microsoft.Extensions.Logging;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// Runs an orderly listener, as RocketMQ's ConsumeMessageOrderlyService: per queue one loop at a time takes the
/// first cached messages (offset order) and hands them to the listener, only while this instance holds the queue's
/// lock. Success removes them (the committed offset moves past them); SuspendCurrentQueueAMoment or an exception
/// keeps them first in line: the queue waits the suspend time and the same messages come again — it never skips
/// ahead, and other queues keep flowing. After <see cref="PushConsumerOptions.MaxReconsumeTimes"/> failures
/// <see cref="OrderlyReconsumeLimit"/> moves them to the group's dead-letter queue. Broadcasting consumers take no locks (every instance consumes every
/// queue, as RocketMQ), so <c>locks</c> is null for them and only the one-loop-per-queue rule applies.
/// </summary>
internal sealed class ConsumeMessageOrderlyService : IConsumeMessageService
{
    private readonly IMessageListenerOrderly _listener;
    private readonly PushConsumerOptions _options;
    private readonly OrderlyQueueLocks? _locks;
    private readonly SendBackService? _deadLetters;
    private readonly ILogger _logger;
    private readonly HashSet<ProcessQueue> _running = [];
    private readonly List<Task> _loops = [];
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _listenerCancellation = new();
    private volatile bool _stopping;

    public ConsumeMessageOrderlyService(IMessageListenerOrderly listener, PushConsumerOptions options, OrderlyQueueLocks? locks, SendBackService? deadLetters, ILogger logger)
    {
        _listener = listener;
        _options = options;
        _locks = locks;
        _deadLetters = deadLetters;
        _logger = logger;
    }

    private int MaxReconsumeTimes => _options.OrderlyMaxReconsumeTimes;

    public void Start()
    {
    }

    public void Submit(ProcessQueue processQueue, IReadOnlyList<MessageExt> messages)
    {
        lock (_gate)
        {
            if (_stopping || !_running.Add(processQueue))
            {
                return; // the queue's loop is running and will see the new messages
            }
            _loops.RemoveAll(t => t.IsCompleted);
            _loops.Add(Task.Run(() => ConsumeLoopAsync(processQueue)));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] loops;
        lock (_gate)
        {
            _stopping = true;
            loops = [.. _loops];
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(loops).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.StopAbandonedListeners(_options.ConsumerGroup, loops.Count(t => !t.IsCompleted));
            await _listenerCancellation.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task ConsumeLoopAsync(ProcessQueue processQueue)
    {
        var queue = processQueue.Queue;
        var failingOffset = -1L;
        var failures = 0;
        try
        {
            while (!_stopping && !processQueue.IsDropped)
            {
                if (_locks is not null && !_locks.IsLocked(queue))
                {
                    // The lock lapsed (a renewal failed): wait for it, keeping the cached messages in order.
                    await _locks.AcquireAsync(queue, () => !processQueue.IsDropped && !_stopping, _stop.Token).ConfigureAwait(false);
                    continue;
                }
                var batch = processQueue.PeekFirst(_options.ConsumeMessageBatchMaxSize);
                if (batch.Count == 0)
                {
                    lock (_gate)
                    {
                        // Checked under the gate: a Submit that found this loop running has cached its messages already.
                        if (processQueue.Count == 0 || _stopping)
                        {
                            _running.Remove(processQueue);
                            return;
                        }
                    }
                    continue;
                }
                if (batch[0].QueueOffset != failingOffset)
                {
                    failingOffset = -1;
                    failures = 0;
                }
                if (!processQueue.TryBeginConsume())
                {
                    break; // dropped: the queue's next owner consumes from the committed offset
                }
                var context = new ConsumeOrderlyContext(queue, _options.SuspendCurrentQueueTime);
                ConsumeOrderlyStatus status;
                try
                {
                    try
                    {
                        var delivered = failures == 0 ? batch : [.. batch.Select(m => m with { ReconsumeTimes = m.ReconsumeTimes + failures })];
                        status = await _listener.ConsumeMessageAsync(delivered, context, _listenerCancellation.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        _logger.OrderlyListenerThrew(ex, _options.ConsumerGroup, queue.ToString(), batch[0].QueueOffset);
                        status = ConsumeOrderlyStatus.SuspendCurrentQueueAMoment;
                    }
                    if (status == ConsumeOrderlyStatus.Success)
                    {
                        // Before EndConsume: a handover waiting for this call then commits the offset past these messages.
                        processQueue.RemoveMessages(batch);
                    }
                }
                finally
                {
                    processQueue.EndConsume();
                }
                if (status == ConsumeOrderlyStatus.Success)
                {
                    continue;
                }
                failingOffset = batch[0].QueueOffset;
                failures++;
                if (failures > MaxReconsumeTimes &&
                    await OrderlyReconsumeLimit.OnMaxReconsumeTimesExceededAsync(_logger, _options.ConsumerGroup, batch, failures, MaxReconsumeTimes, _deadLetters, _stop.Token).ConfigureAwait(false))
                {
                    processQueue.RemoveMessages(batch);
                    continue;
                }
                if (failures <= MaxReconsumeTimes)
                {
                    _logger.OrderlySuspended(_options.ConsumerGroup, queue.ToString(), batch[0].QueueOffset, batch[0].MsgId, failures, context.SuspendCurrentQueueTime);
                }
                await Task.Delay(context.SuspendCurrentQueueTime > TimeSpan.Zero ? context.SuspendCurrentQueueTime : TimeSpan.Zero, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopping: unconsumed messages stay uncommitted
        }
        lock (_gate)
        {
            _running.Remove(processQueue);
        }
    }
}
