using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// An orderly consumer's view of its broker-side queue locks (RocketMQ's RebalanceImpl.lock / lockAll / unlock plus
/// ProcessQueue.locked): which queues it may consume now, on its own clock. A lock is valid for the
/// <see cref="QueueLockResult.ValidFor"/> the group grain answered, counted from when the request was sent, and
/// renewed for every assigned queue every <see cref="PushConsumerOptions.LockRenewInterval"/> (or a third of the
/// validity if that is shorter). A queue that could not be locked is tried again as soon as the group grain says
/// some lock was released, and otherwise every <see cref="PushConsumerOptions.LockRetryInterval"/>.
/// </summary>
internal sealed class OrderlyQueueLocks
{
    private readonly IConsumerGroupGrain _group;
    private readonly PushConsumerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<MessageQueue, long> _validUntil = new();
    private readonly ConcurrentDictionary<MessageQueue, long> _handoverOffsets = new();

    // Renewals and unlocks go to the grain one at a time: a renewal overtaking an unlock would re-take a released queue.
    private readonly SemaphoreSlim _calls = new(1, 1);
    private TaskCompletionSource _released = NewSignal();
    private long _validForTicks = TimeSpan.FromSeconds(30).Ticks;

    public OrderlyQueueLocks(IGrainFactory grains, PushConsumerOptions options, ILogger logger)
    {
        _group = grains.GetGrain<IConsumerGroupGrain>(options.ConsumerGroup);
        _options = options;
        _logger = logger;
    }

    /// <summary>Whether this instance may consume <paramref name="queue"/> now.</summary>
    public bool IsLocked(MessageQueue queue) => _validUntil.TryGetValue(queue, out var until) && Stopwatch.GetTimestamp() < until;

    /// <summary>The queues locked now (re-asserted on heartbeats), sorted.</summary>
    public IReadOnlyList<MessageQueue> Held => [.. _validUntil.Keys.Where(IsLocked).Order()];

    /// <summary>
    /// Tries to lock <paramref name="queue"/>; when it is held elsewhere, waits until a release is announced or
    /// <see cref="PushConsumerOptions.LockRetryInterval"/> passed. Returns whether it is locked now.
    /// </summary>
    /// <param name="queue">The queue to lock.</param>
    /// <param name="wanted">Checked just before the lock call (under the same gate as unlocks): false once the queue was
    /// revoked, so a late attempt never re-takes a lock its revocation has just released.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<bool> AcquireAsync(MessageQueue queue, Func<bool> wanted, CancellationToken cancellationToken)
    {
        if (IsLocked(queue))
        {
            return true;
        }
        var released = Volatile.Read(ref _released).Task;
        try
        {
            await LockAsync([queue], q => wanted(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LockFailed(_options.ConsumerGroup, queue.ToString(), BrokerErrors.ToPublic(ex, $"lock {queue}").Message);
        }
        if (IsLocked(queue))
        {
            return true;
        }
        await Task.WhenAny(released, Task.Delay(_options.LockRetryInterval, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return false;
    }

    /// <summary>Renews (or takes) the locks of every assigned queue, as RocketMQ's lockAll every 20 s.</summary>
    /// <param name="assigned">The queues assigned now.</param>
    /// <param name="isAssigned">Checked again under the gate: a queue revoked meanwhile is left alone.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    public async Task RenewAsync(IReadOnlyList<MessageQueue> assigned, Func<MessageQueue, bool> isAssigned, CancellationToken cancellationToken)
    {
        // Forget queues no longer assigned: their revocation unlocked them (or their lease runs out).
        foreach (var queue in _validUntil.Keys.Except(assigned).ToList())
        {
            _validUntil.TryRemove(queue, out _);
        }
        if (assigned.Count > 0)
        {
            await LockAsync(assigned, isAssigned, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How long to wait between renewals: the configured interval, or a third of the lock validity if shorter.</summary>
    public TimeSpan RenewInterval
    {
        get
        {
            var third = TimeSpan.FromTicks(Interlocked.Read(ref _validForTicks) / 3);
            return third < _options.LockRenewInterval ? third : _options.LockRenewInterval;
        }
    }

    /// <summary>
    /// Stops consuming under the lock and releases it on the broker, handing <paramref name="committedOffset"/> (just
    /// committed) to the next holder. Logs failures.
    /// </summary>
    public async Task UnlockAsync(MessageQueue queue, long committedOffset, CancellationToken cancellationToken)
    {
        _validUntil.TryRemove(queue, out _);
        await _calls.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var handover = committedOffset >= 0 ? new Dictionary<MessageQueue, long> { [queue] = committedOffset } : null;
            await BrokerErrors.Call(() => _group.UnlockBatch(_options.ClientId, [queue], handover), $"unlock {queue}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Not fatal: the lease runs out, and the instance's unregistration releases it too.
            _logger.UnlockFailed(_options.ConsumerGroup, queue.ToString(), ex.Message);
        }
        finally
        {
            _calls.Release();
        }
    }

    /// <summary>The offset the queue's previous holder handed over with the lock (once), or -1.</summary>
    public long TakeHandoverOffset(MessageQueue queue) => _handoverOffsets.TryRemove(queue, out var offset) ? offset : -1;

    /// <summary>Forgets a queue locally without telling the broker (its listener is still running; the lease will free it).</summary>
    public void Forget(MessageQueue queue) => _validUntil.TryRemove(queue, out _);

    /// <summary>The group grain announced released locks: wake every waiting <see cref="AcquireAsync"/>.</summary>
    public void OnQueuesUnlocked() => Interlocked.Exchange(ref _released, NewSignal()).TrySetResult();

    private async Task LockAsync(IReadOnlyList<MessageQueue> requested, Func<MessageQueue, bool> wanted, CancellationToken cancellationToken)
    {
        await _calls.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Revocations drop their queue before they unlock it under this gate, so this sees every revocation that unlocked.
            var queues = requested.Where(wanted).ToList();
            if (queues.Count == 0)
            {
                return;
            }
            var sentAt = Stopwatch.GetTimestamp();
            var result = await BrokerErrors.Call(() => _group.LockBatch(_options.ClientId, queues), "lock queues", cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _validForTicks, result.ValidFor.Ticks);
            var until = sentAt + (long)(result.ValidFor.TotalSeconds * Stopwatch.Frequency);
            var locked = result.Locked.ToHashSet();
            foreach (var (queue, offset) in result.HandoverOffsets ?? new Dictionary<MessageQueue, long>())
            {
                _handoverOffsets[queue] = offset;
            }
            foreach (var queue in queues)
            {
                if (locked.Contains(queue))
                {
                    _validUntil[queue] = until;
                }
                else if (_validUntil.TryRemove(queue, out _))
                {
                    _logger.LockLost(_options.ConsumerGroup, queue.ToString());
                }
            }
        }
        finally
        {
            _calls.Release();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
