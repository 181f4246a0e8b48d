using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Topics;

namespace OrleansMQ.Client;

/// <summary>Receives the queues a rebalance gave to or took from this instance.</summary>
internal interface IQueueAssignmentListener
{
    /// <summary>
    /// Called by the rebalance loop, one call at a time, when the instance's share changed: stop and commit
    /// <paramref name="revoked"/> first (the new owner starts from their committed offsets), then start <paramref name="assigned"/>.
    /// </summary>
    Task OnAssignmentChangedAsync(IReadOnlyList<MessageQueue> assigned, IReadOnlyList<MessageQueue> revoked, CancellationToken cancellationToken);

    /// <summary>The orderly queue locks the instance holds now (re-asserted on every heartbeat).</summary>
    IReadOnlyList<MessageQueue> HeldLocks => [];

    /// <summary>The group grain announced that some queue locks were released.</summary>
    void OnQueuesUnlocked()
    {
    }
}

/// <summary>
/// A consumer instance's membership of its group, shared by both consumers (RocketMQ's heartbeat plus
/// RebalanceImpl): a heartbeat to the group grain every <see cref="ConsumerOptions.HeartbeatInterval"/>, and a
/// rebalance at start, whenever a heartbeat returns a changed membership version, every
/// <see cref="ConsumerOptions.RebalanceInterval"/>, and on request (a new subscription).
/// <para>
/// A rebalance lists the queues of every subscribed topic (sorted), takes the sorted live client ids from a
/// fresh heartbeat, and lets the allocation strategy pick this instance's share; the difference to the current
/// share goes to the <see cref="IQueueAssignmentListener"/>. If a route cannot be read for a transient reason, the
/// rebalance is skipped rather than computed from partial data, so a broker hiccup never drops queues.
/// </para>
/// </summary>
internal sealed class RebalanceService
{
    /// <summary>How soon a failed heartbeat or rebalance is tried again.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>How soon a rebalance looks again for a subscribed topic that did not exist (at most the rebalance interval).</summary>
    private static readonly TimeSpan MissingTopicRecheck = TimeSpan.FromSeconds(1);

    private readonly IGrainFactory _grains;
    private readonly ConsumerOptions _options;
    private readonly SubscriptionTable _subscriptions;
    private readonly IQueueAssignmentListener _listener;
    private readonly ILogger _logger;
    private readonly IConsumerGroupGrain _group;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly HashSet<string> _missingTopics = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyList<MessageQueue> _assignment = [];
    private long _membershipVersion = long.MinValue;
    private Task? _loop;
    private IConsumerGroupObserver? _observer;

    // Orleans holds an observer object only weakly: this field keeps it alive as long as the service.
    private ConsumerGroupObserver? _observerTarget;

    public RebalanceService(IGrainFactory grains, ConsumerOptions options, SubscriptionTable subscriptions, IQueueAssignmentListener listener, ILogger logger)
    {
        _grains = grains;
        _options = options;
        _subscriptions = subscriptions;
        _listener = listener;
        _logger = logger;
        _group = grains.GetGrain<IConsumerGroupGrain>(options.ConsumerGroup);
    }

    /// <summary>The queues currently assigned to this instance, sorted.</summary>
    public IReadOnlyList<MessageQueue> Assignment => Volatile.Read(ref _assignment);

    /// <summary>Registers with the group (failing if the broker cannot be reached), takes a first share, and starts the loop.</summary>
    /// <exception cref="MQException">BrokerUnavailable when the first heartbeat fails.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The group grain pushes membership changes and released locks here, so no change waits for a poll.
        _observerTarget = new ConsumerGroupObserver(RequestRebalance, _listener.OnQueuesUnlocked);
        _observer = _grains.CreateObjectReference<IConsumerGroupObserver>(_observerTarget);
        GroupMembership membership;
        try
        {
            membership = await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            DeleteObserver();
            throw;
        }
        try
        {
            await RebalanceAsync(membership, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Registered but without a share yet: the loop tries again shortly.
            _logger.RebalanceFailed(ex, _options.ConsumerGroup, ex.Message);
            RequestRebalance();
        }
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Asks for a rebalance as soon as possible (e.g. after a new subscription).</summary>
    public void RequestRebalance()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // already requested
        }
    }

    /// <summary>Stops heartbeats and rebalances; the current assignment stays as it is for the consumer to wind down.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    private void DeleteObserver()
    {
        if (_observer is not null)
        {
            try
            {
                _grains.DeleteObjectReference<IConsumerGroupObserver>(_observer);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ObjectDisposedException)
            {
                // the client is gone already
            }
            _observer = null;
            _observerTarget = null;
        }
    }

    /// <summary>Leaves the group at once, so the others rebalance without waiting for this instance's heartbeat to expire. Best effort.</summary>
    public async Task UnregisterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await BrokerErrors.Call(() => _group.Unregister(_options.ClientId), $"unregister from group '{_options.ConsumerGroup}'", cancellationToken)
                .ConfigureAwait(false);
            _logger.Unregistered(_options.ClientId, _options.ConsumerGroup);
        }
        catch (Exception ex)
        {
            _logger.UnregisterFailed(_options.ClientId, _options.ConsumerGroup, ex.Message);
        }
        finally
        {
            DeleteObserver();
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var nextHeartbeat = _options.HeartbeatInterval;
        var nextRebalance = NextRebalance(TimeSpan.Zero);
        while (!stop.IsCancellationRequested)
        {
            var wait = (nextHeartbeat < nextRebalance ? nextHeartbeat : nextRebalance) - clock.Elapsed;
            bool requested;
            try
            {
                requested = await _wake.WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var now = clock.Elapsed;
            var rebalanceDue = requested || now >= nextRebalance;
            if (!rebalanceDue && now < nextHeartbeat)
            {
                continue;
            }
            nextHeartbeat = now + _options.HeartbeatInterval;
            try
            {
                var membership = await HeartbeatAsync(stop).ConfigureAwait(false);
                if (rebalanceDue || membership.Version != _membershipVersion)
                {
                    await RebalanceAsync(membership, stop).ConfigureAwait(false);
                    nextRebalance = NextRebalance(now);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.RebalanceFailed(ex, _options.ConsumerGroup, ex.Message);
                // Both are tried again after the delay, never sooner: a rebalance that was due is in the past, and
                // keeping it there would retry at once, in a tight loop for as long as the broker does not answer.
                var retryAt = now + RetryDelay;
                nextHeartbeat = retryAt < nextHeartbeat ? retryAt : nextHeartbeat;
                nextRebalance = rebalanceDue || retryAt < nextRebalance ? retryAt : nextRebalance;
            }
        }
    }

    /// <summary>
    /// When to rebalance next: a rebalance interval on, or soon while a subscribed topic does not exist yet (the first
    /// send auto-creates it, or an operator is about to), so its queues are taken within a second of its creation.
    /// </summary>
    private TimeSpan NextRebalance(TimeSpan now) =>
        now + (_missingTopics.Count > 0 && MissingTopicRecheck < _options.RebalanceInterval ? MissingTopicRecheck : _options.RebalanceInterval);

    private Task<GroupMembership> HeartbeatAsync(CancellationToken cancellationToken)
    {
        var heartbeat = new ConsumerHeartbeat(
            _options.ClientId, _subscriptions.ToHeartbeat(), _options.Model, _options.ConsumeFromWhere, Environment.MachineName)
        {
            Observer = _observer,
            Assignment = Assignment,
            HeldLocks = _listener.HeldLocks,
            AllocateStrategy = _options.Model == MessageModel.Broadcasting ? "BROADCAST" : _options.AllocateMessageQueueStrategy.Name,
            InstanceName = _options.InstanceName,
            Orderly = _options.Orderly,
        };
        return BrokerErrors.Call(() => _group.Heartbeat(heartbeat), $"send a heartbeat to group '{_options.ConsumerGroup}'", cancellationToken);
    }

    private async Task RebalanceAsync(GroupMembership membership, CancellationToken cancellationToken)
    {
        var allQueues = await ListQueuesAsync(cancellationToken).ConfigureAwait(false);
        var clientIds = membership.ClientIds.Order(StringComparer.Ordinal).ToList();
        IReadOnlyList<MessageQueue> allocated;
        try
        {
            // Broadcasting: every instance consumes every queue. Clustering: per topic, as RocketMQ's rebalanceByTopic,
            // so a group's one-queue retry topic does not shift the split of its other topics.
            allocated = _options.Model == MessageModel.Broadcasting
                ? allQueues
                : [.. allQueues.GroupBy(q => q.Topic, StringComparer.Ordinal).SelectMany(topic => AllocateTopic([.. topic], clientIds, membership.Assignments))];
        }
        catch (Exception ex)
        {
            throw new MQException(MQErrorCode.InvalidArgument,
                $"allocation strategy {_options.AllocateMessageQueueStrategy.Name} failed: {ex.Message}", ex);
        }
        var known = allQueues.ToHashSet();
        var mine = allocated.Where(known.Contains).Distinct().Order().ToList();
        var current = Assignment;
        var assigned = mine.Except(current).ToList();
        var revoked = current.Except(mine).ToList();
        if (assigned.Count > 0 || revoked.Count > 0)
        {
            _logger.Rebalanced(_options.ConsumerGroup, _options.ClientId, clientIds.Count, allQueues.Count,
                string.Join(", ", mine), string.Join(", ", assigned), string.Join(", ", revoked));
            await _listener.OnAssignmentChangedAsync(assigned, revoked, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _assignment, mine);
            _membershipVersion = membership.Version;
            // Report the new share at once: `group describe` and the sticky allocation of the others read it.
            membership = await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
            if (membership.Version != _membershipVersion)
            {
                RequestRebalance();
            }
            return;
        }
        _membershipVersion = membership.Version;
    }

    private async Task<List<MessageQueue>> ListQueuesAsync(CancellationToken cancellationToken)
    {
        var queues = new List<MessageQueue>();
        foreach (var topic in _subscriptions.Topics)
        {
            TopicRoute route;
            try
            {
                // Consumers never create topics (as RocketMQ): a subscription to a missing topic waits for it.
                route = await BrokerErrors.Call(() => _grains.GetGrain<ITopicGrain>(topic).GetRoute(false), $"get the route of topic '{topic}'", cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (MQException ex) when (ex.Code is MQErrorCode.TopicNotFound or MQErrorCode.TopicDeleted)
            {
                if (_missingTopics.Add(topic))
                {
                    _logger.SubscribedTopicMissing(_options.ConsumerGroup, topic, ex.Message);
                }
                continue;
            }
            _missingTopics.Remove(topic);
            if (!route.Permission.HasFlag(TopicPermission.Read))
            {
                continue;
            }
            for (var id = 0; id < route.Queues; id++)
            {
                queues.Add(new MessageQueue(topic, id));
            }
        }
        queues.Sort();
        return queues;
    }

    /// <summary>One topic's queues for this instance, by the configured strategy (sticky ones see who holds which queue of the topic).</summary>
    private IReadOnlyList<MessageQueue> AllocateTopic(
        IReadOnlyList<MessageQueue> queues, IReadOnlyList<string> clientIds, IReadOnlyDictionary<string, IReadOnlyList<MessageQueue>>? assignments)
    {
        if (_options.AllocateMessageQueueStrategy is not IAllocateMessageQueueStrategyWithAssignments sticky)
        {
            return _options.AllocateMessageQueueStrategy.Allocate(_options.ConsumerGroup, _options.ClientId, queues, clientIds);
        }
        var topic = queues[0].Topic;
        var current = (assignments ?? new Dictionary<string, IReadOnlyList<MessageQueue>>()).ToDictionary(
            a => a.Key, a => (IReadOnlyList<MessageQueue>)[.. a.Value.Where(q => q.Topic == topic)], StringComparer.Ordinal);
        return sticky.Allocate(_options.ConsumerGroup, _options.ClientId, queues, clientIds, current);
    }
}
