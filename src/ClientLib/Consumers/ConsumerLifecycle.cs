using Microsoft.Extensions.Logging;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// What a <see cref="PushConsumer"/> and a <see cref="PullConsumer"/> share: their subscriptions, their
/// membership of the group (a <see cref="RebalanceService"/> while started) and the created → started → stopped
/// lifecycle. Each consumer adds its own pulling and hooks its setup and wind-down in.
/// </summary>
internal sealed class ConsumerLifecycle
{
    /// <summary>Bound on the broker calls of a shutdown (final commits, unregister), so a dead broker cannot hang it.</summary>
    internal static readonly TimeSpan ShutdownCallTimeout = TimeSpan.FromSeconds(10);

    private const int Created = 0;
    private const int Started = 1;
    private const int Stopped = 2;

    private readonly IGrainFactory _grains;
    private readonly ConsumerOptions _options;
    private readonly IQueueAssignmentListener _listener;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _transition = new(1, 1);
    private volatile RebalanceService? _rebalance;
    private volatile int _state;

    public ConsumerLifecycle(IGrainFactory grains, ConsumerOptions options, IQueueAssignmentListener listener, ILogger logger)
    {
        _grains = grains;
        _options = options;
        _listener = listener;
        _logger = logger;
    }

    public SubscriptionTable Subscriptions { get; } = new();

    /// <summary>The queues assigned to this instance, sorted (empty unless started).</summary>
    public IReadOnlyList<MessageQueue> Assignment => _rebalance?.Assignment ?? [];

    /// <summary>Whether <see cref="StartAsync"/> was not called yet.</summary>
    public bool IsCreated => _state == Created;

    /// <summary>Adds a subscription; when started, the group hears of it and queues are re-divided at once.</summary>
    /// <exception cref="MQException">ClientNotStarted after stop (a stopped consumer never consumes again).</exception>
    public void Subscribe(string topic, MessageSelector selector)
    {
        if (_state == Stopped)
        {
            throw new MQException(MQErrorCode.ClientNotStarted, "the consumer was stopped; create a new one to subscribe");
        }
        Subscriptions.Add(topic, selector);
        _rebalance?.RequestRebalance();
    }

    /// <summary>Asks for a rebalance now (e.g. a pulled queue's topic is gone).</summary>
    public void RequestRebalance() => _rebalance?.RequestRebalance();

    /// <exception cref="MQException">ClientNotStarted before start and after stop.</exception>
    public void RequireStarted()
    {
        switch (_state)
        {
            case Created:
                throw new MQException(MQErrorCode.ClientNotStarted, "the consumer is not started; call StartAsync first");
            case Stopped:
                throw new MQException(MQErrorCode.ClientNotStarted, "the consumer was stopped; create a new one");
        }
    }

    /// <summary>
    /// Starts: <paramref name="prepare"/> (validate, create the consumer's own parts), join the group and take a
    /// first share (the listener hears of it), then <paramref name="started"/> (start background work). If joining
    /// fails, <paramref name="rollBack"/> undoes <paramref name="prepare"/> and the consumer may be started again.
    /// </summary>
    public async Task StartAsync(Action prepare, Func<Task> rollBack, Action started, CancellationToken cancellationToken)
    {
        await _transition.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            switch (_state)
            {
                case Started:
                    throw new MQException(MQErrorCode.InvalidArgument, "the consumer is already started");
                case Stopped:
                    throw new MQException(MQErrorCode.ClientNotStarted, "the consumer was stopped; create a new one");
            }
            if (Subscriptions.Count == 0)
            {
                throw new MQException(MQErrorCode.InvalidArgument, "subscribe to at least one topic before StartAsync");
            }
            prepare();
            var rebalance = new RebalanceService(_grains, _options, Subscriptions, _listener, _logger);
            _rebalance = rebalance;
            try
            {
                await rebalance.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await rebalance.StopAsync().ConfigureAwait(false);
                _rebalance = null;
                await rollBack().ConfigureAwait(false);
                throw;
            }
            started();
            _state = Started;
            _logger.ConsumerStarted(_options.ConsumerGroup, _options.ClientId,
                string.Join(", ", Subscriptions.ToHeartbeat().Select(s => $"{s.Topic}({s.Describe()})")));
        }
        finally
        {
            _transition.Release();
        }
    }

    /// <summary>
    /// Stops: no more heartbeats or rebalances, then <paramref name="windDown"/> (stop pulling, commit), then leave
    /// the group so the other instances take the queues at once. Idempotent; a consumer never started just becomes stopped.
    /// </summary>
    public async Task StopAsync(Func<CancellationToken, Task> windDown, CancellationToken cancellationToken)
    {
        await _transition.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            var wasStarted = _state == Started;
            _state = Stopped;
            if (!wasStarted)
            {
                return;
            }
            await _rebalance!.StopAsync().ConfigureAwait(false);
            await windDown(cancellationToken).ConfigureAwait(false);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(ShutdownCallTimeout);
            await _rebalance.UnregisterAsync(bounded.Token).ConfigureAwait(false);
            _logger.ConsumerStopped(_options.ConsumerGroup, _options.ClientId);
        }
        finally
        {
            _transition.Release();
        }
    }
}
