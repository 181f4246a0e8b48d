using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// Receives messages through a listener, as RocketMQ's DefaultMQPushConsumer: long-polling pulls under the hood,
/// with flow control, concurrent listener invocations, and offsets committed as messages are consumed.
/// Instances of one <see cref="ConsumerOptions.ConsumerGroup"/> divide the subscribed queues among themselves
/// (clustering), or each consume all of them with their own offsets (<see cref="PushConsumerOptions.MessageModel"/>
/// Broadcasting). With an <see cref="IMessageListenerOrderly"/> each queue is consumed in order, one call at a time,
/// only while this instance holds the queue's broker lock (docs/ordered.md).
/// </summary>
/// <example>
/// <code>
/// await using var consumer = connection.CreatePushConsumer(new PushConsumerOptions { ConsumerGroup = "order-service" });
/// consumer.Subscribe("orders", "created || paid");
/// consumer.RegisterMessageListener(async (messages, context, ct) =>
/// {
///     foreach (var message in messages) await HandleAsync(message, ct);
///     return ConsumeResult.Success;
/// });
/// await consumer.StartAsync();
/// </code>
/// </example>
/// <remarks>
/// Delivery is at-least-once. The committed offset of a queue is the smallest offset not yet consumed, so after a
/// crash (up to <see cref="PushConsumerOptions.PersistConsumerOffsetInterval"/> of commits lost) or a rebalance (the
/// new owner starts from the last commit) messages consumed after that offset are delivered again; a message is
/// never skipped. A message the listener does not consume (ReconsumeLater, or it threw) is sent back to the broker:
/// it returns from the group's retry topic <c>%RETRY%&lt;group&gt;</c> (which every instance subscribes to by
/// itself) after the delay of level 3 + reconsumeTimes, with its original topic, id and properties, and goes to
/// <c>%DLQ%&lt;group&gt;</c> after <see cref="PushConsumerOptions.MaxReconsumeTimes"/>. Only if the send-back fails
/// is it redelivered locally after a backoff (1 s, 2 s, 5 s, … up to 30 s).
/// </remarks>
public sealed class PushConsumer : IAsyncDisposable, IQueueAssignmentListener
{
    /// <summary>How long a revoked queue waits for its running listener invocations before its offset is committed.</summary>
    internal static readonly TimeSpan RevokedQueueDrainTimeout = TimeSpan.FromSeconds(10);

    private readonly IGrainFactory _grains;
    private readonly PushConsumerOptions _options;
    private readonly ILogger _logger;
    private readonly ConsumerLifecycle _lifecycle;
    private readonly SendBackService _sendBack;
    private readonly ConcurrentDictionary<MessageQueue, AssignedQueue> _queues = new();
    private IMessageListenerConcurrently? _listener;
    private IMessageListenerOrderly? _orderlyListener;
    private IConsumeMessageService? _consumeService;
    private IConsumerOffsetStore? _offsets;
    private OrderlyQueueLocks? _locks;
    private PullMessageLoop? _pullLoop;
    private CancellationTokenSource? _stop;
    private Task _persistLoop = Task.CompletedTask;
    private readonly ConcurrentDictionary<MessageQueue, Task> _pendingHandovers = new();

    /// <summary>A push consumer calling the broker through <paramref name="grains"/>.</summary>
    /// <exception cref="MQException">InvalidGroupName / ReservedName / InvalidArgument for bad options.</exception>
    public PushConsumer(IGrainFactory grains, PushConsumerOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Snapshot<PushConsumerOptions>();
        _options.Validate();
        _grains = grains;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PushConsumer>();
        _lifecycle = new ConsumerLifecycle(grains, _options, this, _logger);
        _sendBack = new SendBackService(grains, _options.ConsumerGroup, _options.ConcurrentMaxReconsumeTimes);
    }

    /// <summary>The consumer group.</summary>
    public string ConsumerGroup => _options.ConsumerGroup;

    /// <summary>This instance's id in the group.</summary>
    public string ClientId => _options.ClientId;

    /// <summary>The queues this instance consumes now, sorted (empty unless started).</summary>
    public IReadOnlyList<MessageQueue> Assignment => _lifecycle.Assignment;

    /// <summary>
    /// Subscribes to a topic with a tag expression (<c>*</c>, <c>A</c>, <c>A || B</c>), filtered on the broker.
    /// Subscribing again to a topic replaces its expression, at once: messages of a pull already held by the broker are
    /// checked against the new one. Allowed before and after start.
    /// </summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidFilterExpression.</exception>
    public void Subscribe(string topic, string tagExpression = "*") => _lifecycle.Subscribe(topic, MessageSelector.ByTag(tagExpression));

    /// <summary>
    /// Subscribes to a topic with a selector, as RocketMQ's <c>subscribe(topic, MessageSelector)</c>:
    /// <c>MessageSelector.BySql("amount &gt; 100 AND region IN ('eu', 'us')")</c> filters on user properties (docs/filtering.md),
    /// <c>MessageSelector.ByTag("A || B")</c> on tags; either is evaluated on the broker. The expression is checked here,
    /// before anything is sent. Subscribing again to a topic replaces its selector at once (also for a pull the broker holds).
    /// Allowed before and after start.
    /// The group's retry topic is still consumed whole: a message there matched when it was first delivered.
    /// </summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidFilterExpression (naming what is wrong and where).</exception>
    public void Subscribe(string topic, MessageSelector selector) => _lifecycle.Subscribe(topic, selector);

    /// <summary>Sets the listener; required before <see cref="StartAsync"/>.</summary>
    public void RegisterMessageListener(IMessageListenerConcurrently listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        if (!_lifecycle.IsCreated)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "register the message listener before StartAsync");
        }
        _listener = listener;
        _orderlyListener = null;
    }

    /// <summary>
    /// Sets an orderly listener instead (RocketMQ's MessageListenerOrderly): each queue is consumed by one invocation
    /// at a time, in offset order, only while this instance holds the queue's broker lock. See docs/ordered.md.
    /// </summary>
    public void RegisterMessageListener(IMessageListenerOrderly listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        if (!_lifecycle.IsCreated)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "register the message listener before StartAsync");
        }
        _orderlyListener = listener;
        _listener = null;
    }

    /// <summary>Sets an orderly listener as a delegate. A thrown exception counts as <see cref="ConsumeOrderlyStatus.SuspendCurrentQueueAMoment"/>.</summary>
    public void RegisterMessageListener(Func<IReadOnlyList<MessageExt>, ConsumeOrderlyContext, CancellationToken, Task<ConsumeOrderlyStatus>> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        RegisterMessageListener(new DelegateOrderlyListener(listener));
    }

    /// <summary>Sets the listener as a delegate; required before <see cref="StartAsync"/>. A thrown exception counts as <see cref="ConsumeResult.ReconsumeLater"/>.</summary>
    public void RegisterMessageListener(Func<IReadOnlyList<MessageExt>, ConsumeConcurrentlyContext, CancellationToken, Task<ConsumeResult>> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        RegisterMessageListener(new DelegateListener(listener));
    }

    /// <summary>Joins the group, takes a share of the queues and starts pulling.</summary>
    /// <exception cref="MQException">InvalidArgument (no subscription or listener, already started), ClientNotStarted (stopped),
    /// BrokerUnavailable (the group could not be joined; the consumer may be started again).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_lifecycle.IsCreated && _options.MessageModel == ConsumerGroups.MessageModel.Clustering && _lifecycle.Subscriptions.Count > 0)
        {
            // The retry topic this instance subscribes to must exist before the first rebalance, or its queue waits a rebalance interval.
            await _sendBack.EnsureRetryTopicAsync(cancellationToken).ConfigureAwait(false);
        }
        await _lifecycle.StartAsync(Prepare, () => WindDownAsync(graceful: false, CancellationToken.None), StartPersistingOffsets, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops pulling, waits for the running listener invocations, commits every queue's offset durably and leaves
    /// the group (so the other instances take over at once). Cancelling <paramref name="cancellationToken"/> makes
    /// the stop ungraceful: it stops waiting for listeners (their messages are delivered again later) and for the
    /// broker. Does not throw for broker failures; they are logged.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        _lifecycle.StopAsync(token => WindDownAsync(graceful: true, token), cancellationToken);

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    async Task IQueueAssignmentListener.OnAssignmentChangedAsync(IReadOnlyList<MessageQueue> assigned, IReadOnlyList<MessageQueue> revoked, CancellationToken cancellationToken)
    {
        await Task.WhenAll(revoked.Select(queue => RevokeAsync(queue, cancellationToken))).ConfigureAwait(false);
        if (_stop!.IsCancellationRequested)
        {
            return; // stopping: no new pull loops
        }
        foreach (var queue in assigned)
        {
            var processQueue = new ProcessQueue(queue);
            var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_stop!.Token);
            var loop = Task.Run(() => _pullLoop!.RunAsync(processQueue, cancellation.Token), CancellationToken.None);
            _queues[queue] = new AssignedQueue(processQueue, cancellation, loop);
        }
    }

    IReadOnlyList<MessageQueue> IQueueAssignmentListener.HeldLocks => _locks?.Held ?? [];

    void IQueueAssignmentListener.OnQueuesUnlocked() => _locks?.OnQueuesUnlocked();

    private void Prepare()
    {
        if (_listener is null && _orderlyListener is null)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "register a message listener before StartAsync");
        }
        _stop = new CancellationTokenSource();
        _offsets = IConsumerOffsetStore.For(_grains, _options, _logger);
        var clustering = _options.MessageModel == ConsumerGroups.MessageModel.Clustering;
        if (clustering)
        {
            // RocketMQ's copySubscription: a clustering consumer also consumes its group's retry topic.
            _lifecycle.Subscriptions.Add(Validation.Names.RetryTopic(_options.ConsumerGroup), MessageSelector.All);
        }
        if (_orderlyListener is not null)
        {
            _options.ConsumeOrderly = true;
            // Broadcasting instances all consume every queue: locks would only make them exclude each other.
            _locks = clustering ? new OrderlyQueueLocks(_grains, _options, _logger) : null;
            _consumeService = new ConsumeMessageOrderlyService(_orderlyListener, _options, _locks, clustering ? _sendBack : null, _logger);
        }
        else
        {
            _consumeService = new ConsumeMessageConcurrentlyService(_listener!, _options.ConsumerGroup, _options.ConsumeThreadCount, _options.ConsumeMessageBatchMaxSize, _logger,
                clustering ? _sendBack : null);
        }
        _pullLoop = new PullMessageLoop(_grains, _options, _lifecycle.Subscriptions, _consumeService, _offsets, _locks, _lifecycle.RequestRebalance, _logger);
        _consumeService.Start();
    }

    private void StartPersistingOffsets()
    {
        var stop = _stop!.Token;
        _persistLoop = Task.Run(() => PersistOffsetsAsync(stop), CancellationToken.None);
        if (_locks is not null)
        {
            var renew = Task.Run(() => RenewLocksAsync(_locks, stop), CancellationToken.None);
            _persistLoop = Task.WhenAll(_persistLoop, renew);
        }
    }

    /// <summary>Renews the locks of the assigned queues (RocketMQ's lockMQPeriodically).</summary>
    private async Task RenewLocksAsync(OrderlyQueueLocks locks, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(locks.RenewInterval, stop).ConfigureAwait(false);
                try
                {
                    await locks.RenewAsync([.. _queues.Keys], _queues.ContainsKey, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.RenewFailed(_options.ConsumerGroup, BrokerErrors.ToPublic(ex, "renew queue locks").Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>A revoked queue: stop pulling, let running listeners finish (bounded), commit, forget.</summary>
    private async Task RevokeAsync(MessageQueue queue, CancellationToken cancellationToken)
    {
        if (!_queues.TryRemove(queue, out var assigned))
        {
            return;
        }
        assigned.ProcessQueue.Drop();
        await assigned.Cancellation.CancelAsync().ConfigureAwait(false);
        await assigned.PullLoop.ConfigureAwait(false);
        assigned.Cancellation.Dispose();
        var drained = true;
        try
        {
            // Not the rebalance loop's token either: a stop arriving now must still let the in-flight message finish,
            // or the queue's next owner would get it again.
            await assigned.ProcessQueue.WhenNoListenersAsync().WaitAsync(RevokedQueueDrainTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Their messages stay uncommitted: the queue's next owner delivers them again.
            drained = false;
            _logger.RevokedQueueListenersStillRunning(_options.ConsumerGroup, queue.ToString());
        }
        // Not the rebalance loop's token: a stop arriving now must not skip the commit the queue's next owner starts from.
        using var bounded = new CancellationTokenSource(ConsumerLifecycle.ShutdownCallTimeout);
        await CommitAsync(assigned.ProcessQueue, flush: true, bounded.Token).ConfigureAwait(false);
        if (_locks is not null)
        {
            await HandOverAsync(_locks, assigned.ProcessQueue, drained, bounded.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Orderly handover of a revoked queue: its in-flight message finished and its offset is flushed, so the lock is
    /// released at once and the new owner (told by the group grain) starts exactly after it. If the listener is still
    /// running, the lock is kept until it ends, so the new owner never consumes the queue alongside it.
    /// </summary>
    private async Task HandOverAsync(OrderlyQueueLocks locks, ProcessQueue processQueue, bool drained, CancellationToken cancellationToken)
    {
        var queue = processQueue.Queue;
        if (drained)
        {
            await locks.UnlockAsync(queue, processQueue.OffsetToCommit, cancellationToken).ConfigureAwait(false);
            _logger.HandedOver(_options.ConsumerGroup, queue.ToString(), processQueue.OffsetToCommit);
            return;
        }
        _logger.RevokedOrderlyListenerStillRunning(_options.ConsumerGroup, queue.ToString());
        locks.Forget(queue);
        // A graceful stop waits for this before unregistering (which releases every lock of this instance).
        _pendingHandovers[queue] = Task.Run(async () =>
        {
            await processQueue.WhenNoListenersAsync().ConfigureAwait(false);
            using var bounded = new CancellationTokenSource(ConsumerLifecycle.ShutdownCallTimeout);
            await CommitAsync(processQueue, flush: true, bounded.Token).ConfigureAwait(false);
            if (!_queues.ContainsKey(queue))
            {
                await locks.UnlockAsync(queue, processQueue.OffsetToCommit, bounded.Token).ConfigureAwait(false); // unless it came back to us meanwhile
            }
            _pendingHandovers.TryRemove(queue, out _);
        }, CancellationToken.None);
    }

    /// <summary>Stops pulling and the listeners; with <paramref name="graceful"/>, commits every queue durably too.</summary>
    private async Task WindDownAsync(bool graceful, CancellationToken cancellationToken)
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        var queues = _queues.Values.ToList();
        _queues.Clear();
        foreach (var assigned in queues)
        {
            assigned.ProcessQueue.Drop();
        }
        await Task.WhenAll(queues.Select(q => q.PullLoop).Append(_persistLoop)).ConfigureAwait(false);
        if (_consumeService is not null)
        {
            await _consumeService.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        if (graceful && !_pendingHandovers.IsEmpty)
        {
            using var handovers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            handovers.CancelAfter(ConsumerLifecycle.ShutdownCallTimeout);
            try
            {
                await Task.WhenAll(_pendingHandovers.Values).WaitAsync(handovers.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Unregistering releases their locks anyway; their in-flight messages may be delivered again.
            }
        }
        if (graceful)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(ConsumerLifecycle.ShutdownCallTimeout);
            await Task.WhenAll(queues.Select(q => CommitAsync(q.ProcessQueue, flush: true, bounded.Token))).ConfigureAwait(false);
        }
        foreach (var assigned in queues)
        {
            assigned.Cancellation.Dispose();
        }
        _stop?.Dispose();
    }

    /// <summary>Commits consumed offsets every <see cref="PushConsumerOptions.PersistConsumerOffsetInterval"/>, besides those riding on pulls (a parked pull carries none for up to its suspend time).</summary>
    private async Task PersistOffsetsAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.PersistConsumerOffsetInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                foreach (var assigned in _queues.Values)
                {
                    await CommitAsync(assigned.ProcessQueue, flush: false, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>Commits the queue's offset if it moved since the last commit (always, with <paramref name="flush"/>). Logs failures.</summary>
    private async Task CommitAsync(ProcessQueue processQueue, bool flush, CancellationToken cancellationToken)
    {
        var offset = processQueue.OffsetToCommit;
        if (offset < 0 || (!flush && offset == processQueue.LastCommittedOffset))
        {
            return;
        }
        try
        {
            await _offsets!.CommitAsync(processQueue.Queue, offset, flush, cancellationToken).ConfigureAwait(false);
            processQueue.LastCommittedOffset = offset;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (flush)
            {
                _logger.CommitFailed(_options.ConsumerGroup, processQueue.Queue.ToString(), offset, "cancelled");
            }
        }
        catch (Exception ex)
        {
            _logger.CommitFailed(_options.ConsumerGroup, processQueue.Queue.ToString(), offset, ex.Message);
        }
    }

    private sealed record AssignedQueue(ProcessQueue ProcessQueue, CancellationTokenSource Cancellation, Task PullLoop);

    private sealed class DelegateOrderlyListener(Func<IReadOnlyList<MessageExt>, ConsumeOrderlyContext, CancellationToken, Task<ConsumeOrderlyStatus>> listener)
        : IMessageListenerOrderly
    {
        public Task<ConsumeOrderlyStatus> ConsumeMessageAsync(IReadOnlyList<MessageExt> messages, ConsumeOrderlyContext context, CancellationToken cancellationToken) =>
            listener(messages, context, cancellationToken);
    }

    private sealed class DelegateListener(Func<IReadOnlyList<MessageExt>, ConsumeConcurrentlyContext, CancellationToken, Task<ConsumeResult>> listener)
        : IMessageListenerConcurrently
    {
        public Task<ConsumeResult> ConsumeMessageAsync(IReadOnlyList<MessageExt> messages, ConsumeConcurrentlyContext context, CancellationToken cancellationToken) =>
            listener(messages, context, cancellationToken);
    }
}
