using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Delay;

/// <summary>
/// One delay level, as RocketMQ's ScheduleMessageService task for a level. Messages wait on
/// <see cref="ScheduleTopics.DelayTopic"/> queue <c>level − 1</c> (appended through the queue grain, so they
/// share the group commit); every message of the level has the same delay, so the queue is due in offset order
/// and one grain timer, set to the head's due time, drives it. <see cref="_next"/> (persisted in
/// omq_delay_offset) is advanced only after the due messages were committed on their real queues.
/// </summary>
/// <remarks>
/// Reentrant so that sends keep flowing while a move awaits Postgres; the timer callback interleaves too, and
/// <see cref="_moving"/> keeps one move at a time. Everything here is reloaded from Postgres on activation.
/// </remarks>
[Reentrant]
internal sealed partial class DelayLevelGrain(IScheduleStore store, IOptions<BrokerOptions> options, ILogger<DelayLevelGrain> logger)
    : Grain, IDelayLevelGrain
{
    private const int MoveBatch = 1024;

    /// <summary>Scheduled messages kept in memory per level for their move, so a busy level is moved without reading Postgres.</summary>
    private const long MaxCachedBytes = 64L * 1024 * 1024;
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the delivery offset is saved while a level keeps moving. A crash delivers again what was moved since
    /// the last save (at-least-once), so this bounds the duplicates; saving per batch would cost a round trip each.
    /// </summary>
    private static readonly TimeSpan SaveInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>After a move, the next one waits at least this long, so a steady stream is moved in batches, not one by one.</summary>
    private static readonly TimeSpan TickQuantum = TimeSpan.FromMilliseconds(5);

    private readonly BrokerOptions _options = options.Value;
    private readonly LatenessWindow _lateness = new();
    private RouteCache _routes = null!;
    private IQueueGrain _schedule = null!;
    private IGrainTimer? _timer;
    private int _level;
    private TimeSpan _delay;
    private bool _configured;
    private long _next;
    private long _end;
    private DateTimeOffset? _headDue;
    private DateTimeOffset? _armedFor;
    private bool _moving;
    private bool _moveAgain;
    private long _saved = -1;
    private readonly SortedDictionary<long, MessageExt> _cached = [];

    /// <summary>
    /// Schedule offsets at or past <see cref="_next"/> already delivered (or dropped) while an earlier message of the
    /// level failed: the retry moves only what is left, so their queues do not get them twice.
    /// </summary>
    private readonly HashSet<long> _movedAhead = [];
    private long _cachedBytes;
    private DateTimeOffset _lastSave;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _level = (int)this.GetPrimaryKeyLong();
        var table = _options.DelayTable;
        _configured = _level >= 1 && _level <= table.Count;
        if (!_configured) return;
        _delay = table.DelayOf(_level);
        _routes = new RouteCache(GrainFactory);
        await GrainFactory.GetGrain<ITopicGrain>(ScheduleTopics.DelayTopic).EnsureSystemTopic(table.Count);
        _schedule = GrainFactory.GetGrain<IQueueGrain>(_level - 1, ScheduleTopics.DelayTopic);
        var status = await _schedule.GetStatus();
        _end = status.MaxOffset;
        _next = Math.Clamp(await store.LoadDelayOffsetAsync(_level, cancellationToken) ?? status.MinOffset, status.MinOffset, status.MaxOffset);
        // KeepAlive: a level with pending messages must not be collected as idle between its timer ticks.
        _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
        _armedFor = DateTimeOffset.UtcNow;
        LogActivated(_level, DelayLevelTable.Format(_delay), _end - _next);
    }

    public async Task<AppendResult> Schedule(AppendRequest request)
    {
        RequireConfigured();
        if (request.Messages is not { Count: > 0 })
        {
            throw new MQException(MQErrorCode.InvalidBatch, "a schedule call must carry at least one message");
        }
        var level = _level.ToString(CultureInfo.InvariantCulture);
        var stamped = new MessageData[request.Messages.Count];
        for (var i = 0; i < stamped.Length; i++)
        {
            await ScheduledMessages.CheckAsync(request.Messages[i], _options.MaxBodyBytes, _routes.GetAsync);
            stamped[i] = ScheduledMessages.WithProperty(request.Messages[i], MessageConst.DelayLevel, level);
        }
        var result = await _schedule.Append(new AppendRequest(stamped));
        Cache(stamped, result);
        _end = Math.Max(_end, result.FirstOffset + stamped.Length);
        if (_headDue is null || result.FirstOffset <= _next)
        {
            // The schedule was idle (or this is its head): its first due time is this append's.
            Arm(result.StoredAt + _delay);
        }
        return result;
    }

    public Task Wake()
    {
        if (_configured && _end > _next && _armedFor is null) Arm(DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }

    public async Task<ScheduleStatus> GetStatus()
    {
        RequireConfigured();
        if (!_moving && _next < _end && _headDue is null)
        {
            await MoveDueAsync();
        }
        return new ScheduleStatus(ScheduleKind.DelayLevel, _level, _delay, Math.Max(0, _end - _next), _next < _end ? _headDue : null,
            _lateness.Delivered, _lateness.LastDeliveredAt, _lateness.Summary());
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        _armedFor = null;
        await MoveDueAsync();
    }

    /// <summary>Moves every due message, oldest first, then arms the timer for the next head (or leaves it idle).</summary>
    private async Task MoveDueAsync()
    {
        if (_moving)
        {
            _moveAgain = true;
            return;
        }
        _moving = true;
        try
        {
            do
            {
                _moveAgain = false;
                var (next, moved) = await MoveBatchesAsync();
                await SaveOffsetAsync(force: true);
                if (next is { } due) Arm(moved && due < DateTimeOffset.UtcNow + TickQuantum ? DateTimeOffset.UtcNow + TickQuantum : due);
            }
            while (_moveAgain);
        }
        finally
        {
            _moving = false;
        }
    }

    /// <summary>Moves due batches until the head is not due; returns when to look again (null: nothing pending) and whether anything moved.</summary>
    private async Task<(DateTimeOffset? Next, bool Moved)> MoveBatchesAsync()
    {
        var moved = false;
        while (true)
        {
            IReadOnlyList<MessageExt> batch = TakeCached();
            if (batch.Count == 0)
            {
                PullResult pull;
                try
                {
                    pull = await _schedule.Pull(new PullRequest(ScheduleTopics.ScheduleReaderGroup, _next, MoveBatch));
                }
                catch (Exception e)
                {
                    LogMoveFailed(e, _level, _next);
                    return (DateTimeOffset.UtcNow + RetryAfterFailure, moved);
                }
                _end = Math.Max(_end, pull.MaxOffset);
                if (pull.Status == PullStatus.OffsetIllegal)
                {
                    // Below the stored range (the schedule queue was trimmed): continue from what is there.
                    _next = pull.NextBeginOffset;
                    continue;
                }
                if (pull.Messages.Count == 0)
                {
                    _headDue = null;
                    return (null, moved);
                }
                batch = pull.Messages;
            }
            var now = DateTimeOffset.UtcNow;
            var due = batch.TakeWhile(m => m.StoredAt + _delay <= now).ToList();
            if (due.Count == 0)
            {
                _headDue = batch[0].StoredAt + _delay;
                return (_headDue, moved);
            }
            moved = true;
            var toMove = _movedAhead.Count == 0 ? due : due.Where(m => !_movedAhead.Contains(m.QueueOffset)).ToList();
            var results = await ScheduleMover.MoveAsync(GrainFactory, toMove, _options.MaxBatchBytes);
            var firstFailed = results.Where(r => r.Outcome == MoveOutcome.Failed).Select(r => r.Scheduled.QueueOffset).DefaultIfEmpty(long.MaxValue).Min();
            foreach (var result in results)
            {
                if (result.Outcome == MoveOutcome.Failed) continue;
                if (result.Scheduled.QueueOffset > firstFailed) _movedAhead.Add(result.Scheduled.QueueOffset);
                if (result.Outcome == MoveOutcome.Delivered) _lateness.Record(result.Scheduled.StoredAt + _delay, result.StoredAt);
                else LogDropped(_level, result.Scheduled.MsgId, result.Error ?? "");
            }
            var advanced = Math.Min(firstFailed, due[^1].QueueOffset + 1);
            if (advanced > _next)
            {
                _next = advanced;
                _movedAhead.RemoveWhere(offset => offset < _next);
                EvictCachedBelow(_next);
                await SaveOffsetAsync(force: false);
            }
            if (firstFailed != long.MaxValue)
            {
                LogMoveFailed(null, _level, firstFailed);
                _headDue = due.First(m => m.QueueOffset == firstFailed).StoredAt + _delay;
                return (DateTimeOffset.UtcNow + RetryAfterFailure, moved);
            }
        }
    }

    /// <summary>
    /// Keeps what was just scheduled in memory (up to <see cref="MaxCachedBytes"/>), so moving it needs no read: with a
    /// delay longer than the queue grain's tail, the head of the level would otherwise come from Postgres.
    /// </summary>
    private void Cache(MessageData[] stamped, AppendResult result)
    {
        for (var i = 0; i < stamped.Length; i++)
        {
            var offset = result.FirstOffset + i;
            var size = stamped[i].Body.Length + 256L;
            if (offset < _next || _cachedBytes + size > MaxCachedBytes) return;
            var m = stamped[i];
            _cached[offset] = new MessageExt(ScheduleTopics.DelayTopic, _level - 1, offset, m.MsgId, m.Tag, m.Keys, m.Body, m.Properties,
                m.BornAt, result.StoredAt, m.ReconsumeTimes, m.ProducerGroup, m.BornHost);
            _cachedBytes += size;
        }
    }

    /// <summary>The cached messages from the delivery offset on, as long as they are contiguous (empty: read the queue).</summary>
    private List<MessageExt> TakeCached()
    {
        var batch = new List<MessageExt>();
        for (var offset = _next; batch.Count < MoveBatch && _cached.TryGetValue(offset, out var message); offset++)
        {
            batch.Add(message);
        }
        return batch;
    }

    private void EvictCachedBelow(long offset)
    {
        while (_cached.Count > 0 && _cached.Keys.First() is var first && first < offset)
        {
            _cachedBytes -= _cached[first].Body.Length + 256L;
            _cached.Remove(first);
        }
    }

    /// <summary>Persists the delivery offset when it moved (at most every <see cref="SaveInterval"/> unless forced).</summary>
    private async Task SaveOffsetAsync(bool force)
    {
        if (_next == _saved || (!force && DateTimeOffset.UtcNow - _lastSave < SaveInterval)) return;
        var next = _next;
        try
        {
            await store.SaveDelayOffsetAsync(_level, next);
            _saved = next;
            _lastSave = DateTimeOffset.UtcNow;
        }
        catch (MQException e)
        {
            // The moves stand; if this activation dies before the next save, they are delivered again.
            LogMoveFailed(e, _level, next);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _configured ? SaveOffsetAsync(force: true) : Task.CompletedTask;

    private void Arm(DateTimeOffset at)
    {
        if (_headDue is null || at < _headDue) _headDue = at;
        if (_armedFor is { } armed && armed <= at) return;
        _armedFor = at;
        var dueIn = at - DateTimeOffset.UtcNow;
        _timer?.Change(dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void RequireConfigured()
    {
        if (!_configured) _options.DelayTable.Check(_level);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delay level {Level} ({Delay}) active with {Pending} pending message(s)")]
    private partial void LogActivated(int level, string delay, long pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delay level {Level}: moving from schedule offset {Offset} failed; retrying in a second")]
    private partial void LogMoveFailed(Exception? exception, int level, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delay level {Level}: message {MsgId} dropped: {Reason}")]
    private partial void LogDropped(int level, string msgId, string reason);
}
