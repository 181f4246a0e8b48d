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
/// the listener did not consume (ReconsumeLater, or it threw) are sent back to the broker (RocketMQ's
/// sendMessageBack: the group's retry topic, later, or its dead-letter queue) and then leave it too, so a failing
/// message never holds the queue back. Only when the send-back itself fails do they stay, pinning the committed
/// offset, and are delivered again locally after <see cref="ReconsumeBackoff"/>.
/// </para>
/// <para>
/// Messages from the retry topic reach the listener with their original topic (RocketMQ's resetRetryAndNamespace).
/// </para>
/// </summary>
internal sealed class ConsumeMessageConcurrentlyService : IConsumeMessageService
{
    private readonly IMessageListenerConcurrently _listener;
    private readonly string _group;
    private readonly int _threadCount;
    private readonly int _batchMaxSize;
    private readonly ILogger _logger;
    private readonly IConsumerSendBack? _sendBack;
    private readonly Channel<ConsumeRequest> _requests = Channel.CreateUnbounded<ConsumeRequest>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly CancellationTokenSource _stopRedelivery = new();
    private readonly CancellationTokenSource _listenerCancellation = new();
    private Task[] _workers = [];
    private volatile bool _stopping;
    private int _running;

    /// <summary>A service running <paramref name="listener"/>; <paramref name="sendBack"/> is where failed messages go back to the broker (null: redeliver locally only, as broadcasting does).</summary>
    public ConsumeMessageConcurrentlyService(IMessageListenerConcurrently listener, string group, int threadCount, int batchMaxSize, ILogger logger, IConsumerSendBack? sendBack = null)
    {
        _sendBack = sendBack;
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
            var batch = messages.Count <= _batchMaxSize && start == 0 ? messages : Slice(messages, start, _batchMaxSize);
            if (!_requests.Writer.TryWrite(new ConsumeRequest(processQueue, batch)))
            {
                return; // stopping: the messages stay in the process queue, uncommitted
            }
        }
    }

    private static MessageExt[] Slice(IReadOnlyList<MessageExt> messages, int start, int maxCount)
    {
        var batch = new MessageExt[Math.Min(maxCount, messages.Count - start)];
        for (var i = 0; i < batch.Length; i++) batch[i] = messages[start + i];
        return batch;
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
                var delivered = processQueue.Queue.Topic.StartsWith(Validation.Names.RetryGroupTopicPrefix, StringComparison.Ordinal)
                    ? messages.Select(Retry.RetryRules.AsDelivered).ToArray()
                    : messages;
                result = await _listener.ConsumeMessageAsync(delivered, context, _listenerCancellation.Token).ConfigureAwait(false);
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
                var failed = await SendBackAsync(processQueue, [.. messages.Skip(consumed)]).ConfigureAwait(false);
                if (failed.Count > 0)
                {
                    _ = RedeliverLaterAsync(processQueue, failed);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            processQueue.EndConsume();
        }
    }

    /// <summary>Sends failed messages back to the broker and drops them from the process queue; returns those the broker did not take.</summary>
    private async Task<IReadOnlyList<MessageExt>> SendBackAsync(ProcessQueue processQueue, IReadOnlyList<MessageExt> failed)
    {
        if (_sendBack is null)
        {
            return failed;
        }
        var outcomes = await Task.WhenAll(failed.Select(async message =>
        {
            try
            {
                var result = await _sendBack.SendBackAsync(message, _listenerCancellation.Token).ConfigureAwait(false);
                _logger.SentBack(_group, message.MsgId, processQueue.Queue.ToString(), message.QueueOffset, result.ReconsumeTimes, result.Topic, result.DeadLettered);
                return (message, sent: true);
            }
            catch (Exception ex)
            {
                _logger.SendBackFailed(_group, message.MsgId, processQueue.Queue.ToString(), ex.Message);
                return (message, sent: false);
            }
        })).ConfigureAwait(false);
        var sent = outcomes.Where(o => o.sent).Select(o => o.message).ToList();
        if (sent.Count > 0)
        {
            processQueue.RemoveMessages(sent);
        }
        return [.. outcomes.Where(o => !o.sent).Select(o => o.message)];
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
