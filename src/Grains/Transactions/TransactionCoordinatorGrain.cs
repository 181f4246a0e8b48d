using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Transactions;

/// <summary>
/// The transactions of one producer group, as RocketMQ's TransactionalMessageService and its check service. Half
/// messages live in omq_half_message (<see cref="ITransactionStore"/>), never in the message log, so consumers cannot
/// see them. A commit is recorded first (committing), then appended to the queue chosen at send time through its queue
/// grain, then recorded as committed; a committing row left by a crash is appended again only if its message id is not
/// in that queue yet. So a committed message becomes visible exactly once.
/// </summary>
/// <remarks>
/// <para>
/// Reentrant, so that sends and resolutions keep flowing while a check-back waits for a producer; Orleans still runs one
/// turn at a time. Which resolution wins is decided by the row (one conditional UPDATE), not by this grain's memory, and
/// <see cref="_deliveries"/> keeps one append per transaction within this activation.
/// </para>
/// <para>
/// Nothing here needs to survive the activation: the check schedule is next_check_at in Postgres, re-read on each pass;
/// live producers re-register on their next heartbeat. Grain timers die with the activation, so the
/// <see cref="TransactionWatchdog"/> wakes the coordinator of every group with unresolved transactions.
/// </para>
/// </remarks>
[Reentrant]
internal sealed partial class TransactionCoordinatorGrain(ITransactionStore store, IOptions<BrokerOptions> options, ILogger<TransactionCoordinatorGrain> logger)
    : Grain, ITransactionCoordinatorGrain
{
    /// <summary>Most due transactions claimed (and checked concurrently) per round of a pass.</summary>
    private const int CheckBatch = 64;

    /// <summary>How soon a failed pass or delivery is tried again.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    private readonly BrokerOptions _options = options.Value;
    private readonly Dictionary<string, LiveProducer> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<EndTransactionResult>> _deliveries = new(StringComparer.Ordinal);
    private IGrainTimer? _timer;
    private DateTimeOffset? _armedFor;
    private bool _passing;
    private bool _passAgain;
    private int _nextProducer;

    private string Group => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A fresh activation may inherit committing rows or due checks from one that died: look at once.
        if (Names.IsValidSyntax(Group)) Arm(DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }

    public async Task<HalfMessageResult> Prepare(HalfMessageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        TransactionRules.CheckProducerGroup(Group);
        var message = request.Message ?? throw new MQException(MQErrorCode.InvalidArgument, "a half message needs its message");
        var queue = request.Queue ?? throw new MQException(MQErrorCode.InvalidArgument, "a half message needs the queue it will be committed to");
        MessageRules.Check(message, _options.MaxBodyBytes);
        MessageConst.CheckUserProperties(message.Properties, halfMessage: true);
        TransactionRules.CheckMessage(message);
        var route = await GrainFactory.GetGrain<ITopicGrain>(queue.Topic).GetRoute(autoCreate: false);
        if (!route.Permission.HasFlag(TopicPermission.Write))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"topic '{route.Topic}' is not writable (permission {route.Permission})");
        }
        TransactionRules.CheckFitsTopic(route.Topic, route.MessageType);
        if (queue.QueueId < 0 || queue.QueueId >= route.Queues)
        {
            throw new MQException(MQErrorCode.QueueNotFound, $"topic '{route.Topic}' has queues 0 to {route.Queues - 1}; queue {queue.QueueId} does not exist");
        }

        var firstCheck = DateTimeOffset.UtcNow + (TransactionRules.CheckImmunity(message) ?? _options.TransactionTimeout);
        var row = await store.InsertAsync(Group, queue, TransactionRules.AsHalf(message, Group), firstCheck);
        if (row.State == TransactionState.Pending) Arm(row.NextCheckAt);
        return new HalfMessageResult(row.TransactionId, row.Queue, row.CreatedAt);
    }

    public async Task<EndTransactionResult> EndTransaction(EndTransactionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Names.CheckGroup(Group);
        if (string.IsNullOrWhiteSpace(request.TransactionId))
        {
            throw new MQException(MQErrorCode.InvalidArgument, "ending a transaction needs its transaction id");
        }
        if (!Enum.IsDefined(request.State) || !Enum.IsDefined(request.ResolvedBy))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"{request.State} by {request.ResolvedBy} is not a transaction resolution; Commit, Rollback or Unknown by a producer, a check-back or an operator");
        }
        return await ResolveAsync(request.TransactionId, request.State, request.ResolvedBy);
    }

    public Task RegisterProducer(TransactionProducerHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        TransactionRules.CheckProducerGroup(Group);
        if (string.IsNullOrWhiteSpace(heartbeat.ClientId) || heartbeat.Observer is null)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a transaction producer heartbeat needs a client id and an observer");
        }
        if (!_producers.ContainsKey(heartbeat.ClientId))
        {
            LogProducerJoined(Group, heartbeat.ClientId, heartbeat.Host, _producers.Count + 1);
        }
        _producers[heartbeat.ClientId] = new LiveProducer(heartbeat.ClientId, heartbeat.Observer, DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }

    public Task UnregisterProducer(string clientId)
    {
        if (clientId is not null && _producers.Remove(clientId))
        {
            LogProducerLeft(Group, clientId, "unregistered", _producers.Count);
        }
        return Task.CompletedTask;
    }

    public Task Wake()
    {
        if (_armedFor is null && Names.IsValidSyntax(Group)) Arm(DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }

    /// <summary>Applies a decision, whoever made it. Unknown changes nothing; deciding again the same way is idempotent.</summary>
    private async Task<EndTransactionResult> ResolveAsync(string transactionId, LocalTransactionState state, TransactionResolver by)
    {
        if (state == LocalTransactionState.Unknown)
        {
            var current = await store.GetAsync(Group, transactionId) ?? throw NotFound(transactionId);
            return Result(current);
        }
        var decision = state == LocalTransactionState.Commit ? TransactionState.Committing : TransactionState.RolledBack;
        var decided = await store.DecideAsync(Group, transactionId, decision, by, note: null);
        if (decided is null)
        {
            var existing = await store.GetAsync(Group, transactionId) ?? throw NotFound(transactionId);
            var same = state == LocalTransactionState.Commit
                ? existing.State is TransactionState.Committing or TransactionState.Committed
                : existing.State == TransactionState.RolledBack;
            if (!same)
            {
                throw new MQException(MQErrorCode.TransactionAlreadyResolved,
                    $"transaction {transactionId} of producer group '{Group}' was already {Describe(existing.State)}" +
                    $"{(existing.ResolvedBy is { } who ? $" (by {who})" : "")}{(existing.Note is { } note ? $": {note}" : "")}; it cannot be {(state == LocalTransactionState.Commit ? "committed" : "rolled back")} now");
            }
            // A repeated commit finishes what the first one started, if a failure or crash left it committing.
            return existing.State == TransactionState.Committing ? await DeliverAsync(existing, recovering: true) : Result(existing);
        }
        if (decision == TransactionState.RolledBack)
        {
            LogRolledBack(Group, transactionId, by);
            return Result(decided);
        }
        return await DeliverAsync(decided, recovering: false);
    }

    /// <summary>Appends a committing transaction's message to its queue once (one delivery per transaction at a time in this activation).</summary>
    private Task<EndTransactionResult> DeliverAsync(HalfMessageRow row, bool recovering)
    {
        if (_deliveries.TryGetValue(row.TransactionId, out var running)) return running;
        var delivery = DeliverOnceAsync(row, recovering);
        if (!delivery.IsCompleted)
        {
            _deliveries[row.TransactionId] = delivery;
            _ = delivery.ContinueWith(_ => _deliveries.Remove(row.TransactionId), TaskScheduler.Current);
        }
        return delivery;
    }

    private async Task<EndTransactionResult> DeliverOnceAsync(HalfMessageRow row, bool recovering)
    {
        try
        {
            // Recovering: the decision was recorded earlier and the append may have landed before a crash or a lost answer.
            var offset = recovering ? await store.FindInQueueAsync(row.Queue, row.Message.MsgId) : null;
            if (offset is null)
            {
                var appended = await GrainFactory.GetGrain<IQueueGrain>(row.Queue.QueueId, row.Queue.Topic)
                    .Append(new AppendRequest([TransactionRules.ForDelivery(row.Message)]));
                offset = appended.FirstOffset;
            }
            await store.MarkCommittedAsync(Group, row.TransactionId, offset);
            LogCommitted(Group, row.TransactionId, row.Queue.ToString(), offset.Value, row.ResolvedBy ?? TransactionResolver.Producer);
            return new EndTransactionResult(row.TransactionId, TransactionState.Committed, row.Queue, offset);
        }
        catch (MQException e) when (!e.IsRetryable && e.Code is MQErrorCode.TopicDeleted or MQErrorCode.TopicNotFound or MQErrorCode.QueueNotFound
                                        or MQErrorCode.MessageTypeMismatch or MQErrorCode.InvalidArgument)
        {
            // The destination is gone (or no longer takes it): the message can never be delivered.
            var note = $"committed, but cannot be delivered to {row.Queue}: {e.Message}";
            await store.MarkUndeliverableAsync(Group, row.TransactionId, note);
            LogUndeliverable(Group, row.TransactionId, row.Queue.ToString(), e.Message);
            return new EndTransactionResult(row.TransactionId, TransactionState.Discarded, row.Queue, null);
        }
        catch (Exception e)
        {
            // Still committing: the next pass finishes it, looking for the message in the queue first.
            LogDeliveryFailed(e, Group, row.TransactionId, row.Queue.ToString());
            Arm(DateTimeOffset.UtcNow + (e is MQException ? RetryAfterFailure : _options.TransactionCheckInterval));
            throw;
        }
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        _armedFor = null;
        await PassAsync();
    }

    /// <summary>One pass: finish committing transactions, discard exhausted ones, check back the due ones, arm for the next.</summary>
    private async Task PassAsync()
    {
        if (_passing)
        {
            _passAgain = true;
            return;
        }
        _passing = true;
        try
        {
            do
            {
                _passAgain = false;
                DateTimeOffset? next;
                try
                {
                    await FinishCommittingAsync();
                    await DiscardExhaustedAsync();
                    await CheckBackDueAsync();
                    next = await store.NextCheckAtAsync(Group);
                }
                catch (Exception e)
                {
                    LogPassFailed(e, Group);
                    next = DateTimeOffset.UtcNow + RetryAfterFailure;
                }
                if (next is { } at) Arm(at);
                else if (_armedFor is null) Idle();
            }
            while (_passAgain);
        }
        finally
        {
            _passing = false;
        }
    }

    private async Task FinishCommittingAsync()
    {
        foreach (var row in await store.LoadCommittingAsync(Group))
        {
            try
            {
                await DeliverAsync(row, recovering: true);
            }
            catch (Exception)
            {
                // Logged by the delivery, which also re-armed the timer; the others still get their turn.
            }
        }
    }

    private async Task DiscardExhaustedAsync()
    {
        foreach (var row in await store.DiscardExhaustedAsync(Group, DateTimeOffset.UtcNow, _options.TransactionCheckMax))
        {
            LogDiscarded(Group, row.TransactionId, row.Queue.ToString(), row.CheckTimes);
        }
    }

    private async Task CheckBackDueAsync()
    {
        while (true)
        {
            var now = DateTimeOffset.UtcNow;
            // Counted and rescheduled before the check is sent, as RocketMQ puts a half message back before checking it.
            var due = await store.ClaimDueChecksAsync(Group, now, now + _options.TransactionCheckInterval, _options.TransactionCheckMax, CheckBatch);
            if (due.Count == 0) return;
            await Task.WhenAll(due.Select(CheckBackAsync));
            if (due.Count < CheckBatch) return;
        }
    }

    /// <summary>Asks one live producer of the group about a transaction; another one if that one cannot be reached.</summary>
    private async Task CheckBackAsync(HalfMessageRow row)
    {
        ExpireSilentProducers();
        var candidates = _producers.Values.ToList();
        if (candidates.Count == 0)
        {
            // RocketMQ counts this check too: a group that never comes back gives up after TransactionCheckMax checks.
            LogNoProducer(Group, row.TransactionId, row.CheckTimes, _options.TransactionCheckMax);
            return;
        }
        var request = new TransactionCheckRequest(Group, row.TransactionId, CheckMessage(row), row.CheckTimes);
        var start = _nextProducer++;
        for (var i = 0; i < candidates.Count; i++)
        {
            var producer = candidates[(int)((uint)(start + i) % (uint)candidates.Count)];
            LocalTransactionState answer;
            try
            {
                answer = await producer.Observer.CheckLocalTransaction(request);
            }
            catch (Exception e)
            {
                // Gone or stuck: try another instance now; this one is back with its next heartbeat if it still lives.
                if (_producers.Remove(producer.ClientId)) LogProducerLeft(Group, producer.ClientId, $"check-back failed: {e.GetType().Name}: {e.Message}", _producers.Count);
                continue;
            }
            LogChecked(Group, row.TransactionId, producer.ClientId, row.CheckTimes, answer);
            if (answer == LocalTransactionState.Unknown) return;
            try
            {
                await ResolveAsync(row.TransactionId, answer, TransactionResolver.CheckBack);
            }
            catch (MQException e) when (e.Code == MQErrorCode.TransactionAlreadyResolved)
            {
                // The producer (or an operator) decided while the check was out; that decision stands.
            }
            catch (Exception e)
            {
                LogResolveFailed(e, Group, row.TransactionId);
            }
            return;
        }
    }

    /// <summary>The half message as the producer sent it, on its real queue, with the number of checks so far.</summary>
    private static MessageExt CheckMessage(HalfMessageRow row)
    {
        var m = row.Message;
        var properties = new Dictionary<string, string>(m.Properties ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [TransactionRules.CheckTimesProperty] = row.CheckTimes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new MessageExt(row.Queue.Topic, row.Queue.QueueId, -1, m.MsgId, m.Tag, m.Keys, m.Body, properties, m.BornAt, row.CreatedAt, 0, row.ProducerGroup, m.BornHost);
    }

    private void ExpireSilentProducers()
    {
        var deadline = DateTimeOffset.UtcNow - _options.ProducerExpiry;
        foreach (var silent in _producers.Values.Where(p => p.LastHeartbeat < deadline).ToList())
        {
            _producers.Remove(silent.ClientId);
            LogProducerLeft(Group, silent.ClientId, "no heartbeat", _producers.Count);
        }
    }

    private void Arm(DateTimeOffset at)
    {
        if (_armedFor is { } armed && armed <= at) return;
        _armedFor = at;
        var dueIn = at - DateTimeOffset.UtcNow;
        if (dueIn < TimeSpan.Zero) dueIn = TimeSpan.Zero;
        // KeepAlive: a group with unresolved transactions must not be collected as idle between checks.
        if (_timer is null)
        {
            _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(dueIn, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
        }
        else
        {
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Nothing unresolved: drop the timer so the activation can be collected (a new half message arms it again).</summary>
    private void Idle()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private static EndTransactionResult Result(HalfMessageRow row) => new(row.TransactionId, row.State, row.Queue, row.QueueOffset);

    private MQException NotFound(string transactionId) =>
        new(MQErrorCode.TransactionNotFound, $"producer group '{Group}' has no transaction {transactionId} (see orleansmq transaction list --group {Group})");

    private static string Describe(TransactionState state) => state switch
    {
        TransactionState.Committing or TransactionState.Committed => "committed",
        TransactionState.RolledBack => "rolled back",
        TransactionState.Discarded => "discarded",
        _ => "pending",
    };

    private sealed record LiveProducer(string ClientId, ITransactionCheckObserver Observer, DateTimeOffset LastHeartbeat);

    [LoggerMessage(Level = LogLevel.Information, Message = "Producer group {Group}: {ClientId} on {Host} answers transaction checks ({Count} live)")]
    private partial void LogProducerJoined(string group, string clientId, string host, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Producer group {Group}: {ClientId} left, {Why} ({Count} live)")]
    private partial void LogProducerLeft(string group, string clientId, string why, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Producer group {Group}: transaction {TransactionId} committed to {Queue} at offset {Offset} (by {By})")]
    private partial void LogCommitted(string group, string transactionId, string queue, long offset, TransactionResolver by);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Producer group {Group}: transaction {TransactionId} rolled back (by {By})")]
    private partial void LogRolledBack(string group, string transactionId, TransactionResolver by);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Producer group {Group}: check {CheckTimes} of transaction {TransactionId} answered {Answer} by {ClientId}")]
    private partial void LogChecked(string group, string transactionId, string clientId, int checkTimes, LocalTransactionState answer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer group {Group}: no live producer to check transaction {TransactionId} back (check {CheckTimes} of {MaxChecks} counted)")]
    private partial void LogNoProducer(string group, string transactionId, int checkTimes, int maxChecks);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer group {Group}: transaction {TransactionId} for {Queue} discarded, still unknown after {CheckTimes} check(s)")]
    private partial void LogDiscarded(string group, string transactionId, string queue, int checkTimes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer group {Group}: transaction {TransactionId} was committed but cannot be delivered to {Queue} ({Reason}); discarded")]
    private partial void LogUndeliverable(string group, string transactionId, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer group {Group}: appending committed transaction {TransactionId} to {Queue} failed; it stays committing and is finished later")]
    private partial void LogDeliveryFailed(Exception exception, string group, string transactionId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer group {Group}: applying the check-back answer for transaction {TransactionId} failed; it is checked again")]
    private partial void LogResolveFailed(Exception exception, string group, string transactionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer group {Group}: the transaction check pass failed; trying again shortly")]
    private partial void LogPassFailed(Exception exception, string group);
}
