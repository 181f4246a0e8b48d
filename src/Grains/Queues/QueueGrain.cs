using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Filtering;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Queues;

/// <summary>
/// The single writer of one queue. Appends that arrive while a commit is in flight wait in
/// <see cref="_pending"/> and go out together in the next flush, so one queue has at most one
/// flush in flight and its offsets are committed in order. Offsets are assigned when a flush is
/// built, not when a message arrives, so a failed commit leaves no gap.
/// </summary>
/// <remarks>
/// Reentrant: a parked long-poll or an append waiting for its commit must not block other calls,
/// and Orleans still runs one turn at a time, so the fields below need no locks.
/// </remarks>
[Reentrant]
internal sealed partial class QueueGrain(
    IMessageStore messages,
    IOffsetStore offsets,
    ITopicStore topics,
    IOptions<BrokerOptions> options,
    ILogger<QueueGrain> logger) : Grain, IQueueGrain
{
    private static readonly Meter Meter = new("OrleansMQ.Queues");
    private static readonly Counter<long> Appended = Meter.CreateCounter<long>("orleansmq.queue.appended", description: "Messages committed");
    private static readonly Counter<long> Pulled = Meter.CreateCounter<long>("orleansmq.queue.pulled", description: "Messages returned to pulls");

    /// <summary>After this many fence conflicts in a row the flush fails instead of retrying (two live writers).</summary>
    private const int MaxConflictRetries = 3;

    /// <summary>Most messages a pull scans past filters before answering NoMatchedMessage.</summary>
    private const int MaxScanPerPull = 2048;

    private readonly BrokerOptions _options = options.Value;
    private readonly TailCache _tail = new(options.Value.TailCacheMessages);
    private readonly ReadAhead _readAhead = new(options.Value.ReadAheadBytes);
    private readonly Dictionary<string, long> _committed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirtyGroups = new(StringComparer.Ordinal);
    private readonly Dictionary<(ExpressionType, string), MessageFilter> _filters = [];
    private List<PendingAppend> _pending = [];
    private Task _flushLoop = Task.CompletedTask;
    private TaskCompletionSource _newMessages = NewSignal();

    private string _topic = "";
    private KeyValuePair<string, object?> _topicTag;
    private int _queueId;
    private TopicRecord? _topicRecord;
    private long _minOffset;
    private long _nextOffset;
    private DateTimeOffset? _lastStoredAt;
    private DateTimeOffset _lastStoredClock = DateTimeOffset.MinValue;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _queueId = (int)this.GetPrimaryKeyLong(out var topic);
        _topic = topic ?? throw new InvalidOperationException("queue grain key has no topic");
        // Per-topic rates, as RocketMQ's TPS per topic; the tag's cardinality is the number of topics in use.
        _topicTag = new("topic", _topic);
        _topicRecord = await topics.GetAsync(_topic, cancellationToken);
        await ReloadBoundsAsync(cancellationToken);
        foreach (var (group, offset) in await offsets.LoadAsync(_topic, _queueId, cancellationToken))
        {
            _committed[group] = offset;
        }
        this.RegisterGrainTimer(FlushOffsetsAsync, new GrainTimerCreationOptions(_options.OffsetFlushInterval, _options.OffsetFlushInterval) { Interleave = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Appends already taken are committed (or failed) before the activation goes; their senders are waiting.
        await _flushLoop;
        await FlushOffsetsAsync(cancellationToken);
    }

    public async Task<AppendResult> Append(AppendRequest request)
    {
        var config = await RequireTopicAsync();
        if (!config.Permission.HasFlag(TopicPermission.Write))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"topic '{_topic}' is not writable (permission {config.Permission})");
        }
        if (request.Messages is not { Count: > 0 })
        {
            throw new MQException(MQErrorCode.InvalidBatch, "an append must carry at least one message");
        }
        var bytes = 0L;
        foreach (var message in request.Messages)
        {
            MessageRules.Check(message, _options.MaxBodyBytes);
            MessageTypeRules.CheckFitsTopic(_topic, config.MessageType, message);
            bytes += MessageRules.SizeOf(message);
        }
        // A single message is bounded by its own rules (body and properties); the batch limit is for several.
        if (request.Messages.Count > 1 && bytes > _options.MaxBatchBytes)
        {
            throw new MQException(MQErrorCode.InvalidBatch, $"batch is {bytes} bytes; at most {_options.MaxBatchBytes} bytes go to one queue at once");
        }

        var pending = new PendingAppend(request.Messages);
        _pending.Add(pending);
        if (_flushLoop.IsCompleted)
        {
            _flushLoop = FlushLoopAsync();
        }
        return await pending.Done.Task;
    }

    /// <summary>Writes pending appends one flush at a time until none are left.</summary>
    private async Task FlushLoopAsync()
    {
        while (_pending.Count > 0 && _topicRecord is { IsDeleted: false })
        {
            var flush = _pending;
            _pending = [];
            await FlushAsync(flush);
        }
    }

    private async Task FlushAsync(List<PendingAppend> flush)
    {
        for (var attempt = 1; ; attempt++)
        {
            var storedAt = NextStoreTime();
            var first = _nextOffset;
            var rows = new List<MessageRow>(flush.Sum(p => p.Messages.Count));
            foreach (var pending in flush)
            {
                pending.FirstOffset = first + rows.Count;
                foreach (var message in pending.Messages)
                {
                    rows.Add(new MessageRow(_topic, _queueId, first + rows.Count, storedAt, message));
                }
            }
            try
            {
                await messages.AppendAsync(rows);
            }
            catch (MQException e) when (e.Code == MQErrorCode.StoreConflict && attempt < MaxConflictRetries)
            {
                // The fence: another activation wrote here. Nothing of ours was stored; adopt the
                // stored end of the queue and try again with fresh offsets.
                LogFenceConflict(_topic, _queueId, first);
                await TryReloadBoundsAsync();
                continue;
            }
            catch (Exception e)
            {
                var error = e as MQException ?? new MQException(MQErrorCode.StoreUnavailable, $"append to {_topic}:{_queueId} failed: {e.Message}");
                if (error.Code is MQErrorCode.StoreConflict or MQErrorCode.StoreUnavailable)
                {
                    // A commit whose outcome is unknown may have landed: re-read the end before the next flush.
                    await TryReloadBoundsAsync();
                }
                foreach (var pending in flush) pending.Done.TrySetException(error);
                return;
            }

            _nextOffset = first + rows.Count;
            _lastStoredAt = storedAt;
            _tail.Append(rows.Select(r => r.ToMessageExt()));
            Appended.Add(rows.Count, _topicTag);
            foreach (var pending in flush)
            {
                pending.Done.TrySetResult(new AppendResult(pending.FirstOffset, storedAt));
            }
            var signal = _newMessages;
            _newMessages = NewSignal();
            signal.TrySetResult();
            return;
        }
    }

    public async Task<PullResult> Pull(PullRequest request)
    {
        if (!Names.IsValidSyntax(request.Group))
        {
            Names.CheckGroup(request.Group);
        }
        if (request.MaxMessages is < 1 or > 1024)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"maxMessages {request.MaxMessages} is out of range; allowed 1 to 1024");
        }
        if (request.MaxBytes < 1)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"maxBytes {request.MaxBytes} is out of range; at least 1");
        }
        var filter = CompileFilter(request.ExpressionType, request.TagExpression);
        await RequireTopicAsync();

        if (request.CommitOffset >= 0)
        {
            CommitInMemory(request.Group, request.CommitOffset);
        }

        var offset = request.QueueOffset;
        if (offset < _minOffset || offset > _nextOffset)
        {
            var corrected = offset < _minOffset ? _minOffset : _nextOffset;
            return new PullResult(PullStatus.OffsetIllegal, [], corrected, _minOffset, _nextOffset);
        }
        if (offset == _nextOffset && request.SuspendTimeout > TimeSpan.Zero)
        {
            await SuspendAsync(request.SuspendTimeout);
        }
        if (offset >= _nextOffset)
        {
            return new PullResult(PullStatus.NoNewMessage, [], _nextOffset, _minOffset, _nextOffset);
        }

        var found = new List<MessageExt>();
        var bytes = 0L;
        var scanned = 0;
        var next = offset;
        while (found.Count < request.MaxMessages && bytes < request.MaxBytes && scanned < MaxScanPerPull && next < _nextOffset)
        {
            var want = filter.MatchesAll ? request.MaxMessages - found.Count : Math.Max(request.MaxMessages, 64);
            var chunk = _tail.Covers(next)
                ? _tail.Read(next, want)
                : _readAhead.TryRead(next, want)
                  // Never past what this grain knows committed: a flush in flight may already be visible in Postgres.
                  ?? _readAhead.Keep(await messages.ReadAsync(_topic, _queueId, next, (int)Math.Min(_readAhead.ReadSize(want), _nextOffset - next)), want);
            if (chunk.Count == 0)
            {
                // Below the stored range (removed by retention or a topic reset): jump to what is there.
                var bounds = await messages.GetBoundsAsync(_topic, _queueId);
                _minOffset = bounds.MinOffset;
                if (next < _minOffset) { next = _minOffset; continue; }
                break;
            }
            foreach (var message in chunk)
            {
                next = message.QueueOffset + 1;
                scanned++;
                if (!filter.Matches(message)) continue;
                found.Add(message);
                bytes += message.Body.Length;
                if (found.Count >= request.MaxMessages || bytes >= request.MaxBytes) break;
            }
        }
        Pulled.Add(found.Count, _topicTag);
        var status = found.Count > 0 ? PullStatus.Found : PullStatus.NoMatchedMessage;
        return new PullResult(status, found, next, _minOffset, _nextOffset);
    }

    /// <summary>Holds a pull that is at the end of the queue: long polling until a commit or the timeout, short polling for a fixed time.</summary>
    private async Task SuspendAsync(TimeSpan requested)
    {
        if (!_options.LongPollingEnabled)
        {
            // RocketMQ's short polling: held once for shortPollingTimeMills, deaf to new messages, then answered.
            await Task.Delay(requested < _options.ShortPollingTime ? requested : _options.ShortPollingTime);
            return;
        }
        var timeout = requested < _options.MaxPullSuspend ? requested : _options.MaxPullSuspend;
        // WaitAsync drops its timer once the signal fires; a Task.Delay raced against it would stay queued for the
        // whole timeout after every answered pull (tens of thousands of live timers under load).
        await _newMessages.Task.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task<QueueStatus> GetStatus() => Task.FromResult(new QueueStatus(_queueId, _minOffset, _nextOffset, _lastStoredAt));

    public Task<long> GetCommittedOffset(string group)
    {
        if (!Names.IsValidSyntax(group)) Names.CheckGroup(group);
        return Task.FromResult(_committed.TryGetValue(group, out var offset) ? offset : -1);
    }

    public async Task<long> CommitOffset(string group, long offset, bool flush)
    {
        if (!Names.IsValidSyntax(group)) Names.CheckGroup(group);
        await RequireTopicAsync();
        var committed = CommitInMemory(group, offset);
        if (flush)
        {
            await FlushOffsetsAsync(CancellationToken.None);
        }
        return committed;
    }

    public Task<QueueProgress> GetProgress(string group) =>
        Task.FromResult(new QueueProgress(_topic, _queueId, _nextOffset, _committed.TryGetValue(group, out var o) ? o : -1, _lastStoredAt));

    public Task OnMessagesExpired(long minOffset)
    {
        // Never past the end: the sweep keeps each queue's newest message, so this only moves the start.
        _minOffset = Math.Clamp(minOffset, _minOffset, _nextOffset);
        _readAhead.Clear();
        return Task.CompletedTask;
    }

    public async Task OnTopicDeleted()
    {
        _topicRecord = _topicRecord is null ? null : _topicRecord with { DeletedAt = DateTimeOffset.UtcNow };
        var error = new MQException(MQErrorCode.TopicDeleted, $"topic '{_topic}' was deleted; the message was not stored");
        foreach (var pending in _pending) pending.Done.TrySetException(error);
        _pending = [];
        // The topic grain deletes the topic's rows once this returns: no commit of ours may land after that.
        await _flushLoop;
        _committed.Clear();
        _dirtyGroups.Clear();
        _tail.Clear();
        _readAhead.Clear();
        _newMessages.TrySetResult();
        DeactivateOnIdle();
    }

    public Task ForgetGroup(string group)
    {
        _committed.Remove(group);
        _dirtyGroups.Remove(group);
        return Task.CompletedTask;
    }

    public Task OnTopicUpdated(TopicConfig config)
    {
        // Only a live topic is updated; a late call after a delete must not bring the topic back to life here.
        if (_topicRecord is { IsDeleted: false } record)
        {
            _topicRecord = record with { Config = config };
        }
        return Task.CompletedTask;
    }

    /// <summary>The topic's config, re-read when this activation has not seen it live (created or revived since).</summary>
    private async Task<TopicConfig> RequireTopicAsync()
    {
        if (_topicRecord is not { IsDeleted: false })
        {
            var wasDeleted = _topicRecord?.IsDeleted == true;
            _topicRecord = await topics.GetAsync(_topic);
            if (_topicRecord is { IsDeleted: false } && wasDeleted)
            {
                // Revived after a delete: its messages are gone, start the queue over.
                await ReloadBoundsAsync(CancellationToken.None);
                _committed.Clear();
            }
        }
        var config = TopicRecord.RequireLive(_topicRecord, _topic);
        config.CheckQueueId(_queueId);
        return config;
    }

    private long CommitInMemory(string group, long offset)
    {
        var clamped = Math.Clamp(offset, _minOffset, _nextOffset);
        if (!_committed.TryGetValue(group, out var current) || current != clamped)
        {
            _committed[group] = clamped;
            _dirtyGroups.Add(group);
        }
        return clamped;
    }

    private async Task FlushOffsetsAsync(CancellationToken cancellationToken)
    {
        if (_dirtyGroups.Count == 0) return;
        var batch = _dirtyGroups.Select(g => new KeyValuePair<string, long>(g, _committed[g])).ToList();
        _dirtyGroups.Clear();
        try
        {
            await offsets.SaveAsync(_topic, _queueId, batch, cancellationToken);
        }
        catch (Exception e)
        {
            foreach (var (group, _) in batch) _dirtyGroups.Add(group);
            LogOffsetFlushFailed(e, _topic, _queueId);
            throw;
        }
    }

    /// <summary>
    /// The compiled filter of a pull, cached: every pull of a subscription carries the same expression, and compiling
    /// SQL on each would cost more than the scan. Bounded, as any client can send any expression.
    /// </summary>
    private MessageFilter CompileFilter(ExpressionType type, string? text)
    {
        if (type == ExpressionType.Tag && text is null) return TagExpression.All;
        var key = (type, text ?? "");
        if (!_filters.TryGetValue(key, out var filter))
        {
            // A malformed expression throws here and is not cached: the error reaches the caller every time.
            filter = MessageFilter.Compile(type, text);
            if (_filters.Count > 256) _filters.Clear();
            _filters[key] = filter;
        }
        return filter;
    }

    private async Task ReloadBoundsAsync(CancellationToken cancellationToken)
    {
        var bounds = await messages.GetBoundsAsync(_topic, _queueId, cancellationToken);
        _minOffset = bounds.MinOffset;
        _nextOffset = bounds.NextOffset;
        _lastStoredAt = bounds.LastStoredAt;
        _tail.Clear();
        _readAhead.Clear();
    }

    private async Task TryReloadBoundsAsync()
    {
        try
        {
            await ReloadBoundsAsync(CancellationToken.None);
        }
        catch (MQException)
        {
            // The store is down; the next flush hits the fence if the unknown commit landed.
        }
    }

    /// <summary>Store times never go backwards within a queue, even if the wall clock does.</summary>
    private DateTimeOffset NextStoreTime()
    {
        // Postgres keeps microseconds: cut to them so memory, results and the table agree exactly.
        var now = PostgresTime.Truncate(DateTimeOffset.UtcNow);
        if (now < _lastStoredClock) now = _lastStoredClock;
        _lastStoredClock = now;
        return now;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Topic}:{QueueId}: offset {Offset} already taken by another writer; reloaded the end of the queue")]
    private partial void LogFenceConflict(string topic, int queueId, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Topic}:{QueueId}: persisting consumer offsets failed; will retry")]
    private partial void LogOffsetFlushFailed(Exception exception, string topic, int queueId);

    private sealed class PendingAppend(IReadOnlyList<MessageData> messages)
    {
        public IReadOnlyList<MessageData> Messages { get; } = messages;
        public long FirstOffset { get; set; }
        public TaskCompletionSource<AppendResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
