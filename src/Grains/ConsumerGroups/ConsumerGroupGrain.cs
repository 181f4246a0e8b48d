using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.ConsumerGroups;

/// <summary>
/// The live instances of one consumer group and its orderly queue locks. Membership is soft state: instances
/// heartbeat every few seconds, so after a silo loss the grain re-activates elsewhere and is whole again within
/// one heartbeat interval. Changes are pushed to every instance's observer at once.
/// </summary>
/// <remarks>
/// Locks are soft state too, which is safe because of two rules (docs/ordered.md): a holder consumes only for
/// <see cref="_lockValidity"/> after each renewal, shorter than both the lease and the silence after which the
/// holder is dropped; and a re-activated grain grants no new lock before the persisted lock horizon (a time no
/// granted lock outlives), except the locks their holders re-assert on their heartbeats.
/// </remarks>
internal sealed partial class ConsumerGroupGrain(
    IConsumerGroupStore store,
    IOffsetStore offsets,
    ITopicStore topics,
    IOptions<BrokerOptions> options,
    ILogger<ConsumerGroupGrain> logger)
    : Grain, IConsumerGroupGrain
{
    private readonly TimeSpan _expiry = options.Value.ConsumerExpiry;
    private readonly TimeSpan _offsetFlushInterval = options.Value.OffsetFlushInterval;
    private readonly TimeSpan _lockValidity = Min(options.Value.QueueLockLease / 2, options.Value.ConsumerExpiry);
    private readonly QueueLockTable _locks = new(options.Value.QueueLockLease);
    private readonly SortedDictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<MessageQueue, long> _handoverOffsets = [];
    private long _version;
    private DateTimeOffset _grantsOpenAt;
    private DateTimeOffset _persistedHorizon;

    /// <summary>Since when this activation has had no live instance (its activation, or the last one leaving).</summary>
    private DateTimeOffset _idleSince = DateTimeOffset.UtcNow;

    private string Group => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = _expiry / 3;
        this.RegisterGrainTimer(ExpireSilentInstances, new GrainTimerCreationOptions(period, period) { Interleave = true });
        var horizon = await store.GetLockHorizonAsync(Group, cancellationToken);
        var now = DateTimeOffset.UtcNow;
        _persistedHorizon = horizon ?? DateTimeOffset.MinValue;
        _grantsOpenAt = horizon > now ? horizon.Value : now;
        if (_grantsOpenAt > now)
        {
            LogLockWindow(Group, _grantsOpenAt - now);
        }
    }

    public Task<GroupMembership> Heartbeat(ConsumerHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        Names.CheckGroup(Group);
        if (string.IsNullOrWhiteSpace(heartbeat.ClientId))
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a consumer heartbeat needs a client id");
        }
        if (heartbeat.Subscriptions is null)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a consumer heartbeat needs its subscriptions (an empty list is allowed)");
        }
        foreach (var subscription in heartbeat.Subscriptions)
        {
            Names.CheckSystemTopic(subscription.Topic);
            MessageFilter.Compile(subscription.ExpressionType, subscription.Expression);
        }
        ExpireSilent();
        CheckInstanceName(heartbeat);
        var now = DateTimeOffset.UtcNow;
        var isNew = !_instances.TryGetValue(heartbeat.ClientId, out var previous);
        var info = new ConsumerInstanceInfo(heartbeat.ClientId, heartbeat.Host, heartbeat.Subscriptions, heartbeat.MessageModel, now)
        {
            Assignment = heartbeat.Assignment ?? previous?.Info.Assignment ?? [],
            AllocateStrategy = heartbeat.AllocateStrategy,
            InstanceName = heartbeat.InstanceName,
            Orderly = heartbeat.Orderly,
        };
        _instances[heartbeat.ClientId] = new Instance(info, heartbeat.Observer ?? previous?.Observer);
        if (heartbeat.HeldLocks is { Count: > 0 } held)
        {
            // Re-assertion (after this grain re-activated): a lock nobody else holds goes back to the instance that
            // still consumes under it. It needs no new horizon: the holder's validity came from an earlier grant.
            _locks.Grant(heartbeat.ClientId, _locks.Grantable(heartbeat.ClientId, held, now, mayGrantNew: true), now);
        }
        if (isNew || !previous!.Info.Subscriptions.SequenceEqual(info.Subscriptions))
        {
            _version++;
            if (isNew) LogJoined(Group, heartbeat.ClientId, _instances.Count);
            NotifyMembershipChanged(except: heartbeat.ClientId);
        }
        return Task.FromResult(Membership());
    }

    public Task<GroupMembership> Unregister(string clientId)
    {
        if (_instances.Remove(clientId))
        {
            _idleSince = DateTimeOffset.UtcNow;
            _version++;
            LogLeft(Group, clientId, "unregistered", _instances.Count);
            var released = _locks.Release(clientId);
            NotifyMembershipChanged(except: clientId);
            NotifyUnlocked(released, except: clientId);
        }
        return Task.FromResult(Membership());
    }

    public Task<IReadOnlyList<ConsumerInstanceInfo>> GetInstances()
    {
        ExpireSilent();
        var now = DateTimeOffset.UtcNow;
        return Task.FromResult<IReadOnlyList<ConsumerInstanceInfo>>(
            [.. _instances.Values.Select(i => i.Info with { Locks = _locks.HeldBy(i.Info.ClientId, now) })]);
    }

    public async Task<GroupDeletion> Delete(bool keepDeadLetters)
    {
        Names.CheckGroup(Group);
        ExpireSilent();
        if (_instances.Count > 0)
        {
            throw new MQException(MQErrorCode.ConsumerGroupActive,
                $"group '{Group}' has {_instances.Count} live instance(s) ({string.Join(", ", _instances.Keys)}); stop them before deleting the group");
        }
        // Offsets the last instances committed reach Postgres on the queue grains' next flush. Wait that out, so every
        // queue holding one is found below; the queue grains then forget the group, so none writes it back afterwards.
        var flushed = _idleSince + _offsetFlushInterval + TimeSpan.FromSeconds(1) - DateTimeOffset.UtcNow;
        if (flushed > TimeSpan.Zero)
        {
            // The grain is not reentrant: no instance can join while it waits.
            await Task.Delay(flushed);
        }
        foreach (var topic in await offsets.TopicsOfGroupAsync(Group))
        {
            if (await topics.GetAsync(topic) is not { IsDeleted: false } record) continue;
            await Task.WhenAll(Enumerable.Range(0, record.Config.Queues).Select(q => GrainFactory.GetGrain<IQueueGrain>(q, topic).ForgetGroup(Group)));
        }
        var removed = await offsets.DeleteGroupAsync(Group);
        _handoverOffsets.Clear();
        var deleted = new List<string>();
        foreach (var topic in keepDeadLetters ? [Names.RetryTopic(Group)] : new[] { Names.RetryTopic(Group), Names.DlqTopic(Group) })
        {
            if (await topics.GetAsync(topic) is not { IsDeleted: false }) continue;
            await GrainFactory.GetGrain<ITopicGrain>(topic).Delete();
            deleted.Add(topic);
        }
        LogDeleted(Group, removed, deleted.Count);
        return new GroupDeletion(Group, removed, deleted);
    }

    public async Task<QueueLockResult> LockBatch(string clientId, IReadOnlyList<MessageQueue> queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        Names.CheckGroup(Group);
        ExpireSilent();
        if (!_instances.TryGetValue(clientId ?? "", out var instance))
        {
            // Only a live (heartbeating) instance may hold a lock: that is what lets a silent holder's locks go.
            return new QueueLockResult([], _lockValidity);
        }
        var now = DateTimeOffset.UtcNow;
        _instances[clientId!] = instance with { Info = instance.Info with { LastHeartbeat = now } };
        var grantable = _locks.Grantable(clientId!, queues, now, mayGrantNew: now >= _grantsOpenAt);
        if (grantable.Count > 0 && _persistedHorizon < now + _lockValidity)
        {
            // Durable before granting: a re-activation must know no lock granted here outlives the horizon.
            var horizon = now + _locks.Lease;
            await store.SaveLockHorizonAsync(Group, horizon);
            _persistedHorizon = horizon;
            if (!_instances.ContainsKey(clientId!))
            {
                return new QueueLockResult([], _lockValidity);
            }
            grantable = _locks.Grantable(clientId!, grantable, now, mayGrantNew: true);
        }
        var renewed = _locks.HeldBy(clientId!, now).ToHashSet();
        _locks.Grant(clientId!, grantable, now);
        grantable.Sort();
        Dictionary<MessageQueue, long>? handover = null;
        foreach (var queue in grantable.Where(q => !renewed.Contains(q)))
        {
            if (_handoverOffsets.Remove(queue, out var offset))
            {
                (handover ??= [])[queue] = offset;
            }
        }
        return new QueueLockResult(grantable, _lockValidity) { HandoverOffsets = handover };
    }

    public Task UnlockBatch(string clientId, IReadOnlyList<MessageQueue> queues, IReadOnlyDictionary<MessageQueue, long>? handoverOffsets = null)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var released = _locks.Release(clientId, queues);
        foreach (var queue in released)
        {
            if (handoverOffsets is not null && handoverOffsets.TryGetValue(queue, out var offset) && offset >= 0)
            {
                _handoverOffsets[queue] = offset;
            }
        }
        if (released.Count > 0)
        {
            LogUnlocked(Group, clientId, string.Join(", ", released));
            NotifyUnlocked(released, except: clientId);
        }
        return Task.CompletedTask;
    }

    private void CheckInstanceName(ConsumerHeartbeat heartbeat)
    {
        if (heartbeat.MessageModel != MessageModel.Broadcasting || heartbeat.InstanceName is null)
        {
            return;
        }
        var other = _instances.Values.FirstOrDefault(i =>
            i.Info.ClientId != heartbeat.ClientId && i.Info.MessageModel == MessageModel.Broadcasting && i.Info.InstanceName == heartbeat.InstanceName);
        if (other is not null)
        {
            throw new MQException(MQErrorCode.InstanceNameInUse,
                $"instance name '{heartbeat.InstanceName}' of broadcasting group '{Group}' is in use by live instance {other.Info.ClientId} " +
                $"(last heartbeat {other.Info.LastHeartbeat:u}); broadcasting offsets are kept per instance name, so give each instance its own " +
                $"(ConsumerOptions.InstanceName, or --instance), or wait until the other stops (it is dropped {_expiry.TotalSeconds:0.#} s after its last heartbeat)");
        }
    }

    private Task ExpireSilentInstances(CancellationToken cancellationToken)
    {
        ExpireSilent();
        return Task.CompletedTask;
    }

    private void ExpireSilent()
    {
        var deadline = DateTimeOffset.UtcNow - _expiry;
        foreach (var silent in _instances.Values.Where(i => i.Info.LastHeartbeat < deadline).ToList())
        {
            _instances.Remove(silent.Info.ClientId);
            _idleSince = DateTimeOffset.UtcNow;
            _version++;
            LogLeft(Group, silent.Info.ClientId, "no heartbeat", _instances.Count);
            // Silent for longer than any lock validity: it no longer consumes under them.
            var released = _locks.Release(silent.Info.ClientId);
            NotifyMembershipChanged(except: null);
            NotifyUnlocked(released, except: null);
        }
    }

    private void NotifyMembershipChanged(string? except)
    {
        foreach (var instance in _instances.Values)
        {
            if (instance.Observer is { } observer && instance.Info.ClientId != except)
            {
                Notify(() => observer.OnMembershipChanged(_version), instance.Info.ClientId);
            }
        }
    }

    private void NotifyUnlocked(List<MessageQueue> released, string? except)
    {
        if (released.Count == 0) return;
        foreach (var instance in _instances.Values)
        {
            if (instance.Observer is { } observer && instance.Info.ClientId != except)
            {
                Notify(() => observer.OnQueuesUnlocked(released), instance.Info.ClientId);
            }
        }
    }

    /// <summary>One-way: a gone instance's observer fails silently; its heartbeat (or its absence) sorts it out.</summary>
    private void Notify(Func<Task> call, string clientId)
    {
        try
        {
            _ = call();
        }
        catch (Exception e)
        {
            LogNotifyFailed(e, Group, clientId);
        }
    }

    private GroupMembership Membership() => new(_version, _instances.Keys.ToList())
    {
        Assignments = _instances.Values.ToDictionary(i => i.Info.ClientId, i => i.Info.Assignment, StringComparer.Ordinal),
    };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed record Instance(ConsumerInstanceInfo Info, IConsumerGroupObserver? Observer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} deleted: {Offsets} offset(s) removed, {Topics} retry/dead-letter topic(s) deleted")]
    private partial void LogDeleted(string group, long offsets, int topics);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: {ClientId} joined ({Count} live)")]
    private partial void LogJoined(string group, string clientId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: {ClientId} left, {Why} ({Count} live)")]
    private partial void LogLeft(string group, string clientId, string why, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Group {Group}: {ClientId} unlocked [{Queues}]")]
    private partial void LogUnlocked(string group, string clientId, string queues);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {Group} re-activated while its orderly locks may still be held: no new queue lock for {Wait} (holders re-assert theirs on their heartbeats)")]
    private partial void LogLockWindow(string group, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Group {Group}: notifying {ClientId} failed")]
    private partial void LogNotifyFailed(Exception exception, string group, string clientId);
}
