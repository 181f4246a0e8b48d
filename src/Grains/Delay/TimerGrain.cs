using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Delay;

/// <summary>
/// One timer queue of arbitrary-time messages (RocketMQ 5 timer messages). Messages wait on
/// <see cref="ScheduleTopics.TimerTopic"/> queue <c>id</c> (appended through the queue grain, so they share the
/// group commit), indexed by due time in Postgres (omq_message_timer_due). The grain loads the next
/// <see cref="Window"/> of due times into memory — a time bucket read with one index scan — and keeps a grain
/// timer set to the earliest; a due message is appended to its real queue, then its timer row is deleted, so
/// a crash in between delivers it again (at least once), never zero times.
/// </summary>
/// <remarks>
/// <see cref="_cursor"/> is the invariant: every stored timer entry at or before it is in <see cref="_loaded"/>
/// (or already delivered). A message scheduled while a scan is running joins memory when it is due before the
/// scan's end, so no entry falls between the scan and the send.
/// </remarks>
[Reentrant]
internal sealed partial class TimerGrain(IScheduleStore store, IOptions<BrokerOptions> options, ILogger<TimerGrain> logger)
    : Grain, ITimerGrain
{
    /// <summary>How far ahead due times are loaded into memory: one bucket, read with one index range scan.</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private const int ScanPage = 5000;
    private const int MaxLoaded = 200_000;
    private const int MoveBatch = 512;

    /// <summary>Messages scheduled into the loaded window are kept in memory up to this many bytes, so their delivery needs no read.</summary>
    private const long MaxCachedBytes = 64L * 1024 * 1024;

    /// <summary>Delivered rows are deleted in batches of up to this many, or after <see cref="DeleteDelay"/>.</summary>
    private const int DeleteBatch = 2048;

    /// <summary>
    /// How long delivered rows may wait to be deleted. A crash in between delivers them again (at-least-once), so this
    /// bounds the duplicates after a crash; batching the deletes is what keeps up with thousands of timers a second.
    /// </summary>
    private static readonly TimeSpan DeleteDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>After a tick that delivered, the next one waits at least this long, so a steady stream is moved in batches.</summary>
    private static readonly TimeSpan TickQuantum = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);
    /// <summary>Slack for clocks of producer and broker that disagree a little about "now".</summary>
    private static readonly TimeSpan HorizonSlack = TimeSpan.FromSeconds(5);

    private readonly BrokerOptions _options = options.Value;
    private readonly LatenessWindow _lateness = new();
    private readonly SortedSet<TimerEntry> _loaded = [];
    private readonly HashSet<long> _loadedOffsets = [];
    private readonly Dictionary<long, MessageExt> _cached = [];
    private readonly List<long> _delivered = [];
    private long _cachedBytes;
    private DateTimeOffset _deleteDue = DateTimeOffset.MaxValue;
    private Task _deleting = Task.CompletedTask;
    private RouteCache _routes = null!;
    private IQueueGrain _queue = null!;
    private IGrainTimer? _timer;
    private int _queueId;
    private TimerEntry _cursor = new(long.MinValue, long.MinValue);
    private long _scanningBeforeMs = long.MinValue;
    private DateTimeOffset? _armedFor;
    private bool _ticking;
    private bool _tickAgain;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _queueId = (int)this.GetPrimaryKeyLong();
        if (_queueId is < 0 or >= ScheduleTopics.TimerQueues) return;
        _routes = new RouteCache(GrainFactory);
        await GrainFactory.GetGrain<ITopicGrain>(ScheduleTopics.TimerTopic).EnsureSystemTopic(ScheduleTopics.TimerQueues);
        _queue = GrainFactory.GetGrain<IQueueGrain>(_queueId, ScheduleTopics.TimerTopic);
        _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
        _armedFor = DateTimeOffset.UtcNow;
    }

    public async Task<AppendResult> Schedule(AppendRequest request)
    {
        RequireTimerQueue();
        if (request.Messages is not { Count: > 0 })
        {
            throw new MQException(MQErrorCode.InvalidBatch, "a schedule call must carry at least one message");
        }
        var latest = DateTimeOffset.UtcNow + _options.TimerHorizon + HorizonSlack;
        var dues = new long[request.Messages.Count];
        for (var i = 0; i < dues.Length; i++)
        {
            var message = request.Messages[i];
            var due = ScheduledMessages.TimerDue(message.Properties);
            if (due > latest)
            {
                throw new MQException(MQErrorCode.DeliverTimeOutOfRange,
                    $"message {message.MsgId} is due at {due:O}, more than the timer horizon ({_options.TimerHorizon}) from now; schedule it closer or raise OrleansMQ:TimerHorizon (at most 30 days)");
            }
            await ScheduledMessages.CheckAsync(message, _options.MaxBodyBytes, _routes.GetAsync);
            dues[i] = due.ToUnixTimeMilliseconds();
        }
        var result = await _queue.Append(request);
        for (var i = 0; i < dues.Length; i++)
        {
            var entry = new TimerEntry(dues[i], result.FirstOffset + i);
            // Due before what memory covers (or before a running scan's end): memory must hold it, the scan may have missed it.
            if (entry.CompareTo(_cursor) <= 0 || entry.DueMs < _scanningBeforeMs)
            {
                Load(entry);
                Cache(request.Messages[i], entry.QueueOffset, result.StoredAt);
                Arm(DateTimeOffset.FromUnixTimeMilliseconds(entry.DueMs));
            }
        }
        return result;
    }

    public Task Wake() => Task.CompletedTask;

    public async Task<ScheduleStatus> GetStatus()
    {
        RequireTimerQueue();
        var (count, firstDue) = await store.CountTimersAsync(_queueId);
        return new ScheduleStatus(ScheduleKind.Timer, _queueId, null, count, firstDue is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
            _lateness.Delivered, _lateness.LastDeliveredAt, _lateness.Summary());
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        _armedFor = null;
        if (_ticking)
        {
            _tickAgain = true;
            return;
        }
        _ticking = true;
        try
        {
            do
            {
                _tickAgain = false;
                await TickAsync();
            }
            while (_tickAgain);
        }
        finally
        {
            _ticking = false;
        }
    }

    /// <summary>Loads the next bucket when memory runs short, delivers what is due, and arms the timer for what comes next.</summary>
    private async Task TickAsync()
    {
        var retryAt = (DateTimeOffset?)null;
        var delivered = false;
        try
        {
            var horizon = DateTimeOffset.UtcNow + Window;
            if (_cursor.DueMs < (horizon - Window / 2).ToUnixTimeMilliseconds())
            {
                await ScanAsync(horizon.ToUnixTimeMilliseconds());
            }
            while (_loaded.Count > 0 && _loaded.Min.DueMs <= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            {
                delivered = true;
                if (!await DeliverDueAsync())
                {
                    retryAt = DateTimeOffset.UtcNow + RetryAfterFailure;
                    break;
                }
            }
            if (_delivered.Count >= DeleteBatch || (_delivered.Count > 0 && DateTimeOffset.UtcNow >= _deleteDue))
            {
                // Beside the moves, not in their way: a slow delete must not make the next due messages late.
                if (_deleting.IsCompleted) _deleting = DeleteDeliveredAsync();
            }
        }
        catch (Exception e)
        {
            LogTickFailed(e, _queueId);
            retryAt = DateTimeOffset.UtcNow + RetryAfterFailure;
        }
        // Next: the earliest loaded due time, or when memory must be refilled (half a window before its end).
        var refill = _cursor.DueMs == long.MinValue ? DateTimeOffset.UtcNow : DateTimeOffset.FromUnixTimeMilliseconds(_cursor.DueMs) - Window / 2;
        var next = _loaded.Count > 0 ? Min(DateTimeOffset.FromUnixTimeMilliseconds(_loaded.Min.DueMs), refill) : refill;
        if (_delivered.Count > 0) next = Min(next, _deleteDue);
        if (retryAt is { } r) next = Min(r, next);
        Arm(delivered && next < DateTimeOffset.UtcNow + TickQuantum ? DateTimeOffset.UtcNow + TickQuantum : next);
    }

    /// <summary>Reads the time index from the cursor up to <paramref name="beforeMs"/> into memory (bounded).</summary>
    private async Task ScanAsync(long beforeMs)
    {
        _scanningBeforeMs = beforeMs;
        try
        {
            while (_loaded.Count < MaxLoaded)
            {
                var page = await store.ScanTimersAsync(_queueId, _cursor, beforeMs, ScanPage);
                foreach (var entry in page) Load(entry);
                if (page.Count < ScanPage)
                {
                    _cursor = new TimerEntry(beforeMs - 1, long.MaxValue);
                    return;
                }
                _cursor = page[^1];
            }
        }
        finally
        {
            _scanningBeforeMs = long.MinValue;
        }
    }

    /// <summary>Delivers one batch of due messages; false when some could not be delivered for now.</summary>
    private async Task<bool> DeliverDueAsync()
    {
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var due = _loaded.TakeWhile(e => e.DueMs <= nowMs).Take(MoveBatch).ToList();
        var dueByOffset = due.ToDictionary(e => e.QueueOffset, e => e.DueMs);
        var messages = new List<MessageExt>(due.Count);
        var uncached = new List<long>();
        foreach (var entry in due)
        {
            if (_cached.TryGetValue(entry.QueueOffset, out var cached)) messages.Add(cached);
            else uncached.Add(entry.QueueOffset);
        }
        if (uncached.Count > 0)
        {
            messages.AddRange(await store.ReadTimersAsync(_queueId, uncached));
        }
        var results = await ScheduleMover.MoveAsync(GrainFactory, messages, _options.MaxBatchBytes);
        var done = new List<long>(results.Count);
        var allMoved = true;
        foreach (var result in results)
        {
            switch (result.Outcome)
            {
                case MoveOutcome.Delivered:
                    // A message asked for a past time is due when it was scheduled, not years ago.
                    var asked = DateTimeOffset.FromUnixTimeMilliseconds(dueByOffset[result.Scheduled.QueueOffset]);
                    _lateness.Record(asked > result.Scheduled.StoredAt ? asked : result.Scheduled.StoredAt, result.StoredAt);
                    done.Add(result.Scheduled.QueueOffset);
                    break;
                case MoveOutcome.Dropped:
                    LogDropped(_queueId, result.Scheduled.MsgId, result.Error ?? "");
                    done.Add(result.Scheduled.QueueOffset);
                    break;
                default:
                    allMoved = false;
                    break;
            }
        }
        if (done.Count > 0)
        {
            if (_delivered.Count == 0) _deleteDue = DateTimeOffset.UtcNow + DeleteDelay;
            _delivered.AddRange(done);
        }
        // Entries whose rows are gone (delivered by an earlier activation that died before forgetting them) are done too.
        var stored = messages.Select(m => m.QueueOffset).ToHashSet();
        foreach (var entry in due)
        {
            if (done.Contains(entry.QueueOffset) || !stored.Contains(entry.QueueOffset)) Forget(entry);
        }
        return allMoved;
    }

    /// <summary>Deletes the rows of delivered messages (their moves are committed): after this they are never delivered again.</summary>
    private async Task DeleteDeliveredAsync()
    {
        var batch = _delivered.ToList();
        _delivered.Clear();
        _deleteDue = DateTimeOffset.MaxValue;
        try
        {
            await store.DeleteTimersAsync(_queueId, batch);
        }
        catch (Exception e)
        {
            // Still delivered; deleted with the next batch (or delivered again after a crash: at-least-once).
            LogTickFailed(e, _queueId);
            if (_delivered.Count == 0) _deleteDue = DateTimeOffset.UtcNow + RetryAfterFailure;
            _delivered.AddRange(batch);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _deleting;
        if (_delivered.Count > 0)
        {
            // Rows that stay (the store failed) are delivered again by the next activation: at-least-once.
            await DeleteDeliveredAsync();
        }
    }

    private void Cache(MessageData message, long offset, DateTimeOffset storedAt)
    {
        var size = message.Body.Length + 256L;
        if (_cachedBytes + size > MaxCachedBytes) return;
        _cachedBytes += size;
        _cached[offset] = new MessageExt(ScheduleTopics.TimerTopic, _queueId, offset, message.MsgId, message.Tag, message.Keys, message.Body,
            message.Properties, message.BornAt, storedAt, message.ReconsumeTimes, message.ProducerGroup, message.BornHost);
    }

    private void Load(TimerEntry entry)
    {
        if (_loadedOffsets.Add(entry.QueueOffset)) _loaded.Add(entry);
    }

    private void Forget(TimerEntry entry)
    {
        _loaded.Remove(entry);
        _loadedOffsets.Remove(entry.QueueOffset);
        if (_cached.Remove(entry.QueueOffset, out var cached)) _cachedBytes -= cached.Body.Length + 256L;
    }

    private void Arm(DateTimeOffset at)
    {
        if (_armedFor is { } armed && armed <= at) return;
        _armedFor = at;
        var dueIn = at - DateTimeOffset.UtcNow;
        _timer?.Change(dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void RequireTimerQueue()
    {
        if (_queueId is < 0 or >= ScheduleTopics.TimerQueues)
        {
            throw new MQException(MQErrorCode.QueueNotFound, $"timer queue {_queueId} does not exist; there are {ScheduleTopics.TimerQueues} (0 to {ScheduleTopics.TimerQueues - 1})");
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer queue {QueueId}: a tick failed; retrying in a second")]
    private partial void LogTickFailed(Exception exception, int queueId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer queue {QueueId}: message {MsgId} dropped: {Reason}")]
    private partial void LogDropped(int queueId, string msgId, string reason);
}
