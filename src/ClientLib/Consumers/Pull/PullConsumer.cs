using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;
using OrleansMQ.Queues;

namespace OrleansMQ.Client;

/// <summary>
/// Receives messages when asked, as RocketMQ's DefaultLitePullConsumer: subscribe, start, then
/// <see cref="PollAsync"/> and <see cref="CommitAsync(CancellationToken)"/> in a loop. Queues are assigned by the
/// group exactly as for <see cref="PushConsumer"/>. Poll, commit and seek are meant for one caller at a time
/// (concurrent polls wait for each other).
/// </summary>
/// <example>
/// <code>
/// await using var consumer = connection.CreatePullConsumer(new PullConsumerOptions { ConsumerGroup = "audit" });
/// consumer.Subscribe("orders");
/// await consumer.StartAsync();
/// while (!ct.IsCancellationRequested)
/// {
///     var messages = await consumer.PollAsync(TimeSpan.FromSeconds(5), ct);
///     foreach (var message in messages) Print(message);
///     await consumer.CommitAsync(ct); // exactly what was printed
/// }
/// </code>
/// </example>
public sealed class PullConsumer : IAsyncDisposable, IQueueAssignmentListener
{
    /// <summary>Longest time one pull waits on the broker for new messages; a poll with a longer timeout issues several.</summary>
    internal static readonly TimeSpan MaxPullSuspend = TimeSpan.FromSeconds(5);

    /// <summary>Pause before pulling a queue again after its pull failed.</summary>
    internal static readonly TimeSpan ErrorBackoff = TimeSpan.FromSeconds(1);

    private readonly IGrainFactory _grains;
    private readonly PullConsumerOptions _options;
    private readonly ILogger _logger;
    private readonly ConsumerLifecycle _lifecycle;
    private readonly object _gate = new();
    private readonly Dictionary<MessageQueue, QueueState> _queues = [];
    private readonly SemaphoreSlim _polling = new(1, 1);
    private int _roundRobin;

    /// <summary>A pull consumer calling the broker through <paramref name="grains"/>.</summary>
    /// <exception cref="MQException">InvalidGroupName / ReservedName / InvalidArgument for bad options.</exception>
    public PullConsumer(IGrainFactory grains, PullConsumerOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Snapshot<PullConsumerOptions>();
        _options.Validate();
        _grains = grains;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PullConsumer>();
        _lifecycle = new ConsumerLifecycle(grains, _options, this, _logger);
    }

    /// <summary>The consumer group.</summary>
    public string ConsumerGroup => _options.ConsumerGroup;

    /// <summary>This instance's id in the group.</summary>
    public string ClientId => _options.ClientId;

    /// <summary>The queues this instance consumes now, sorted (empty before start).</summary>
    public IReadOnlyList<MessageQueue> Assignment => _lifecycle.Assignment;

    /// <summary>Subscribes to a topic with a tag expression (<c>*</c>, <c>A</c>, <c>A || B</c>), filtered on the broker. Allowed before and after start.</summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidFilterExpression.</exception>
    public void Subscribe(string topic, string tagExpression = "*") => _lifecycle.Subscribe(topic, MessageSelector.ByTag(tagExpression));

    /// <summary>
    /// Subscribes to a topic with a selector: <c>MessageSelector.BySql("a &gt; 5 AND b = 'abc'")</c> or
    /// <c>MessageSelector.ByTag("A || B")</c>, evaluated on the broker (docs/filtering.md). The expression is checked here,
    /// before anything is sent. Allowed before and after start.
    /// </summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidFilterExpression (naming what is wrong and where).</exception>
    public void Subscribe(string topic, MessageSelector selector) => _lifecycle.Subscribe(topic, selector);

    /// <summary>Joins the group and takes a share of the queues; <see cref="Assignment"/> is set when this returns.</summary>
    /// <exception cref="MQException">InvalidArgument (no subscription, already started), ClientNotStarted (stopped), BrokerUnavailable.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) =>
        _lifecycle.StartAsync(prepare: () => { }, rollBack: () => { ForgetQueues(); return Task.CompletedTask; }, started: () => { }, cancellationToken);

    /// <summary>
    /// Returns the next messages of one assigned queue (queues take turns), as soon as any queue has some, or an
    /// empty list when <paramref name="timeout"/> passes first. The position of that queue moves past them; commit
    /// it with <see cref="CommitAsync(CancellationToken)"/> once they are processed (or set <see cref="PullConsumerOptions.AutoCommit"/>).
    /// </summary>
    /// <exception cref="MQException">ClientNotStarted; InvalidArgument for a negative timeout.</exception>
    public async Task<IReadOnlyList<MessageExt>> PollAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        RequireStarted();
        if (timeout < TimeSpan.Zero)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"poll timeout is {timeout}; it must not be negative");
        }
        await _polling.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                RequireStarted();
                var remaining = timeout - clock.Elapsed;
                List<Task> pending;
                lock (_gate)
                {
                    var states = RotatedStates();
                    for (var i = 0; i < states.Count; i++)
                    {
                        var messages = TakeCompleted(states[i]);
                        if (messages.Count > 0)
                        {
                            _roundRobin += i + 1;
                            return messages;
                        }
                    }
                    // Pulls start before the deadline check, so even a zero-timeout poll sets them going and a
                    // later poll returns what they brought.
                    var suspend = remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining < MaxPullSuspend ? remaining : MaxPullSuspend;
                    foreach (var state in states)
                    {
                        if (state.Pull is null && Environment.TickCount64 >= state.RetryAtTicks)
                        {
                            state.Pull = PullAsync(state, suspend);
                        }
                    }
                    if (remaining <= TimeSpan.Zero)
                    {
                        return [];
                    }
                    pending = [.. states.Where(s => s.Pull is not null).Select(s => (Task)s.Pull!)];
                }
                // Wakes on the first pull to answer, at the deadline, or — with nothing assigned or all backing off — shortly, to look again.
                var wait = pending.Count == 0 ? (remaining < ErrorBackoff ? remaining : ErrorBackoff) : remaining;
                pending.Add(Task.Delay(wait, cancellationToken));
                await Task.WhenAny(pending).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            _polling.Release();
        }
    }

    /// <summary>Commits, durably, the position after everything <see cref="PollAsync"/> returned so far, for every assigned queue.</summary>
    /// <exception cref="MQException">ClientNotStarted; BrokerUnavailable (the positions stay uncommitted; commit again).</exception>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        RequireStarted();
        List<(QueueState State, long Offset)> toCommit;
        lock (_gate)
        {
            toCommit = [.. _queues.Values.Where(s => s.Offset >= 0 && s.Offset != s.LastCommitted).Select(s => (s, s.Offset))];
        }
        await Task.WhenAll(toCommit.Select(c => CommitAsync(c.State.Queue, c.Offset, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits, durably, explicit positions: for each queue, the next offset to consume (the offset of the last
    /// processed message plus one). Any queue of the group may be given, assigned or not. The broker keeps an offset
    /// within the queue: one past its end is stored as its end, one below its first message as that message.
    /// </summary>
    /// <exception cref="MQException">ClientNotStarted; InvalidArgument for a negative offset or queue id; BrokerUnavailable.</exception>
    public async Task CommitAsync(IReadOnlyDictionary<MessageQueue, long> offsets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        RequireStarted();
        foreach (var (queue, offset) in offsets)
        {
            ArgumentNullException.ThrowIfNull(queue, nameof(offsets));
            if (offset < 0 || queue.QueueId < 0)
            {
                throw new MQException(MQErrorCode.InvalidArgument, $"cannot commit offset {offset} on {queue}: offsets and queue ids are not negative");
            }
        }
        await Task.WhenAll(offsets.Select(p => CommitAsync(p.Key, p.Value, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves the position of an assigned queue: the next poll returns messages from <paramref name="offset"/> on
    /// (an offset outside the queue is corrected to its nearest end). Nothing is committed.
    /// </summary>
    /// <exception cref="MQException">ClientNotStarted; InvalidArgument when the queue is not assigned or the offset is negative.</exception>
    public void Seek(MessageQueue queue, long offset)
    {
        ArgumentNullException.ThrowIfNull(queue);
        RequireStarted();
        if (offset < 0)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"cannot seek {queue} to {offset}: offsets are not negative");
        }
        lock (_gate)
        {
            if (!_queues.TryGetValue(queue, out var state))
            {
                throw new MQException(MQErrorCode.InvalidArgument,
                    $"cannot seek {queue}: it is not assigned to this consumer (assigned: {string.Join(", ", _queues.Keys.Order())})");
            }
            state.Offset = offset;
            state.Generation++; // a pull in flight from the old position is discarded when it answers
            state.Pull = null;
        }
    }

    /// <summary>
    /// Leaves the group (committing first when <see cref="PullConsumerOptions.AutoCommit"/> is set). Positions not
    /// committed are lost: the queues' next owner starts from the last commit. Broker failures are logged, not thrown.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        _lifecycle.StopAsync(WindDownAsync, cancellationToken);

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    async Task IQueueAssignmentListener.OnAssignmentChangedAsync(IReadOnlyList<MessageQueue> assigned, IReadOnlyList<MessageQueue> revoked, CancellationToken cancellationToken)
    {
        var removed = new List<QueueState>();
        lock (_gate)
        {
            foreach (var queue in revoked)
            {
                if (_queues.Remove(queue, out var state))
                {
                    removed.Add(state);
                }
            }
            foreach (var queue in assigned)
            {
                _queues.TryAdd(queue, new QueueState(queue));
            }
        }
        if (_options.AutoCommit)
        {
            await Task.WhenAll(removed.Select(s => CommitQuietlyAsync(s, cancellationToken))).ConfigureAwait(false);
        }
    }

    private async Task WindDownAsync(CancellationToken cancellationToken)
    {
        var states = ForgetQueues();
        if (_options.AutoCommit)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(ConsumerLifecycle.ShutdownCallTimeout);
            await Task.WhenAll(states.Select(s => CommitQuietlyAsync(s, bounded.Token))).ConfigureAwait(false);
        }
    }

    /// <summary>Drops every queue's state (pulls in flight are abandoned); returns what was dropped.</summary>
    private List<QueueState> ForgetQueues()
    {
        lock (_gate)
        {
            List<QueueState> states = [.. _queues.Values];
            _queues.Clear();
            return states;
        }
    }

    /// <summary>The assigned queues in poll order, starting after the queue that answered last. Caller holds the lock.</summary>
    private List<QueueState> RotatedStates()
    {
        var states = _queues.Values.OrderBy(s => s.Queue).ToList();
        if (states.Count > 1)
        {
            var start = (int)((uint)_roundRobin % (uint)states.Count);
            states = [.. states.Skip(start), .. states.Take(start)];
        }
        return states;
    }

    /// <summary>Takes the answer of the queue's finished pull, if any, and moves its position. Caller holds the lock.</summary>
    private List<MessageExt> TakeCompleted(QueueState state)
    {
        if (state.Pull is not { IsCompleted: true } pull)
        {
            return [];
        }
        state.Pull = null;
        var outcome = pull.Result; // PullAsync never faults
        if (outcome.Generation != state.Generation)
        {
            return [];
        }
        if (outcome.Error is not null)
        {
            _logger.PullFailed(_options.ConsumerGroup, state.Queue.ToString(), outcome.Error.Message, ErrorBackoff);
            state.RetryAtTicks = Environment.TickCount64 + (long)ErrorBackoff.TotalMilliseconds;
            return [];
        }
        var result = outcome.Result!;
        if (outcome.CommittedOffset >= 0)
        {
            state.LastCommitted = outcome.CommittedOffset;
        }
        if (result.Status == PullStatus.OffsetIllegal)
        {
            _logger.OffsetIllegal(_options.ConsumerGroup, state.Queue.ToString(), outcome.FromOffset, result.NextBeginOffset, result.MinOffset, result.MaxOffset);
        }
        state.Offset = result.NextBeginOffset;
        return result.Status == PullStatus.Found ? [.. _lifecycle.Subscriptions.Refilter(state.Queue.Topic, outcome.Filter, result.Messages)] : [];
    }

    /// <summary>One pull for a queue (resolving its start offset first if needed). Never faults: failures are part of the outcome.</summary>
    private async Task<PullOutcome> PullAsync(QueueState state, TimeSpan suspend)
    {
        var generation = state.Generation;
        var offset = state.Offset;
        var commit = _options.AutoCommit && offset >= 0 && offset != state.LastCommitted ? offset : -1;
        try
        {
            if (offset < 0)
            {
                offset = await QueueCalls.ResolveStartOffsetAsync(_grains, state.Queue, _options.ConsumerGroup, _options.ConsumeFromWhere, _options.ConsumeTimestamp, _logger, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            var filter = _lifecycle.Subscriptions.PullFilter(state.Queue.Topic);
            var request = new PullRequest(_options.ConsumerGroup, offset, _options.PullBatchSize, filter?.Text, commit, suspend,
                ExpressionType: filter?.Type ?? ExpressionType.Tag);
            var result = await QueueCalls.PullAsync(_grains, state.Queue, request, CancellationToken.None).ConfigureAwait(false);
            return new PullOutcome(generation, offset, commit, result, null, filter);
        }
        catch (Exception ex)
        {
            return new PullOutcome(generation, offset, -1, null, BrokerErrors.ToPublic(ex, $"pull from {state.Queue}"));
        }
    }

    private async Task CommitAsync(MessageQueue queue, long offset, CancellationToken cancellationToken)
    {
        var stored = await QueueCalls.CommitOffsetAsync(_grains, queue, _options.ConsumerGroup, offset, flush: true, cancellationToken).ConfigureAwait(false);
        if (stored != offset)
        {
            _logger.CommitClamped(_options.ConsumerGroup, queue.ToString(), offset, stored);
        }
        lock (_gate)
        {
            if (_queues.TryGetValue(queue, out var state))
            {
                state.LastCommitted = stored;
            }
        }
    }

    private async Task CommitQuietlyAsync(QueueState state, CancellationToken cancellationToken)
    {
        long offset;
        lock (_gate)
        {
            offset = state.Offset;
        }
        if (offset < 0 || offset == state.LastCommitted)
        {
            return;
        }
        try
        {
            await QueueCalls.CommitOffsetAsync(_grains, state.Queue, _options.ConsumerGroup, offset, flush: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.CommitFailed(_options.ConsumerGroup, state.Queue.ToString(), offset, ex.Message);
        }
    }

    private void RequireStarted() => _lifecycle.RequireStarted();

    /// <summary>One assigned queue's position and its pull in flight (or answered and not yet taken).</summary>
    private sealed class QueueState(MessageQueue queue)
    {
        public MessageQueue Queue { get; } = queue;

        /// <summary>Next offset to consume: the position after everything polled (-1 until the start offset is known).</summary>
        public long Offset { get; set; } = -1;

        public long LastCommitted { get; set; } = -1;

        public int Generation { get; set; }

        public Task<PullOutcome>? Pull { get; set; }

        /// <summary>When the queue may be pulled again after a failed pull (<see cref="Environment.TickCount64"/>).</summary>
        public long RetryAtTicks { get; set; }
    }

    private sealed record PullOutcome(int Generation, long FromOffset, long CommittedOffset, PullResult? Result, Exception? Error, MessageFilter? Filter = null);
}
