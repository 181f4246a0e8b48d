using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// Runs the push consumer's listener, as RocketMQ's ConsumeMessageConcurrentlyService: pulled messages are cut
/// into requests of at most <see cref="PushConsumerOptions.ConsumeMessageBatchMaxSize"/> and handed to
/// <see cref="PushConsumerOptions.ConsumeThreadCount"/> workers, so at most that many listener invocations run at once.
/// <para>
/// Consumed messages leave their <see cref="ProcessQueue"/> (which lets its committed offset advance). Messages
/// the listener did not consume (ReconsumeLater, or it threw) stay in it, pinning the committed offset, and are
/// delivered again after <see cref="ReconsumeBackoff"/>, while the queue's other messages keep flowing.
/// </para>
/// </summary>
internal sealed class ConsumeMessageConcurrentlyService : IConsumeMessageService
{
    private readonly IMessageListenerConcurrently _listener;
    private readonly string _group;
    private readonly int _threadCount;
    private readonly int _batchMaxSize;
    private readonly ILogger _logger;
    private readonly Channel<ConsumeRequest> _requests = Channel.CreateUnbounded<ConsumeRequest>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly CancellationTokenSource _stopRedelivery = new();
    private readonly CancellationTokenSource _listenerCancellation = new();
    private Task[] _workers = [];
    private volatile bool _stopping;
    private int _running;

    public ConsumeMessageConcurrentlyService(IMessageListenerConcurrently listener, string group, int threadCount, int batchMaxSize, ILogger logger)
    {
        _listener = listener;
        _group = group;
        _threadCount = threadCount;
        _batchMaxSize = batchMaxSize;
        _logger = logger;
    }

    /// <summary>Listener invocations running now.</summary>
    internal int Running => Volatile.Read(ref _running);

    public void Start() =>
        _workers = [.. Enumerable.Range(0, _threadCount).Select(_ => Task.Run(WorkerAsync))];

    /// <summary>Hands freshly pulled messages of one queue to the workers.</summary>
    public void Submit(ProcessQueue processQueue, IReadOnlyList<MessageExt> messages)
    {
        for (var start = 0; start < messages.Count; start += _batchMaxSize)
        {
            var batch = messages.Count <= _batchMaxSize && start == 0
                ? messages
                : messages.Skip(start).Take(_batchMaxSize).ToArray();
            if (!_requests.Writer.TryWrite(new ConsumeRequest(processQueue, batch)))
            {
                return; // stopping: the messages stay in the process queue, uncommitted
            }
        }
    }

    /// <summary>
    /// Starts no more listener invocations and waits for the running ones. Cancelling <paramref name="cancellationToken"/>
    /// stops the wait and cancels the token the running invocations were given; their messages stay uncommitted.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _requests.Writer.TryComplete();
        await _stopRedelivery.CancelAsync().ConfigureAwait(false);
        var workers = Task.WhenAll(_workers);
        try
        {
            await workers.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.StopAbandonedListeners(_group, Running);
            await _listenerCancellation.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task WorkerAsync()
    {
        var reader = _requests.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var request))
            {
                if (!_stopping)
                {
                    await ConsumeAsync(request).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ConsumeAsync(ConsumeRequest request)
    {
        var processQueue = request.ProcessQueue;
        var messages = request.Messages;
        // A dropped queue belongs to another instance now, which delivers these messages again from the committed offset.
        if (!processQueue.TryBeginConsume())
        {
            return;
        }
        Interlocked.Increment(ref _running);
        try
        {
            var context = new ConsumeConcurrentlyContext(processQueue.Queue);
            ConsumeResult result;
            try
            {
                result = await _listener.ConsumeMessageAsync(messages, context, _listenerCancellation.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _logger.ListenerThrew(ex, _group, processQueue.Queue.ToString(), messages[0].QueueOffset);
                result = ConsumeResult.ReconsumeLater;
            }
            var consumed = result == ConsumeResult.Success ? Math.Clamp(context.AckIndex, -1, messages.Count - 1) + 1 : 0;
            if (consumed > 0)
            {
                processQueue.RemoveMessages(consumed == messages.Count ? messages : messages.Take(consumed));
            }
            if (consumed < messages.Count)
            {
                _ = RedeliverLaterAsync(processQueue, [.. messages.Skip(consumed)]);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            processQueue.EndConsume();
        }
    }

    private async Task RedeliverLaterAsync(ProcessQueue processQueue, IReadOnlyList<MessageExt> failed)
    {
        var failures = failed.Max(m => m.ReconsumeTimes);
        var delay = ReconsumeBackoff.After(failures);
        _logger.ReconsumeLater(_group, failed.Count, processQueue.Queue.ToString(), failed[0].QueueOffset, failed[0].MsgId, failures + 1, delay);
        try
        {
            await Task.Delay(delay, _stopRedelivery.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // stopping: the messages stay uncommitted and are delivered again after a restart
        }
        if (!processQueue.IsDropped)
        {
            Submit(processQueue, [.. failed.Select(m => m with { ReconsumeTimes = m.ReconsumeTimes + 1 })]);
        }
    }

    private readonly record struct ConsumeRequest(ProcessQueue ProcessQueue, IReadOnlyList<MessageExt> Messages);
}
