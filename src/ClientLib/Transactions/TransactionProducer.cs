using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Client;

/// <summary>
/// Sends transaction messages, as RocketMQ's TransactionMQProducer: the message is stored as a half message (durable,
/// invisible to consumers), then the <see cref="ITransactionListener"/> runs the local transaction, and its answer
/// commits the message (visible exactly once), rolls it back, or leaves it to the broker's check-back. Also sends
/// ordinary messages (<see cref="SendAsync"/>).
/// </summary>
/// <remarks>
/// <para>
/// A producer group is required: from construction until disposal the producer heartbeats its group's transaction
/// coordinator with an observer, so the broker can ask it (or any other live instance of the group, if the sender
/// crashed) how an unresolved transaction ended. Dispose it to leave the group at once.
/// </para>
/// <para>
/// Transaction messages cannot be delayed (typed <see cref="MQErrorCode.InvalidTransaction"/>, as RocketMQ 5) and FIFO
/// topics refuse them (<see cref="MQErrorCode.MessageTypeMismatch"/>); nothing is stored then.
/// </para>
/// </remarks>
public sealed class TransactionProducer : IAsyncDisposable
{
    private static readonly TimeSpan HeartbeatRetryDelay = TimeSpan.FromSeconds(2);

    private readonly Producer _producer;
    private readonly ProducerOptions _options;
    private readonly ITransactionListener _listener;
    private readonly ILogger _logger;
    private readonly string _group;
    private readonly ITransactionCoordinatorGrain _coordinator;
    private readonly IGrainFactory _grains;
    private readonly ITransactionCheckObserver _observer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _firstHeartbeat;
    private readonly Task _heartbeats;
    private int _disposed;

    // Orleans holds an observer object only weakly: this field keeps it alive as long as the producer.
    private readonly TransactionCheckObserver _observerTarget;

    /// <summary>A transaction producer of <see cref="ProducerOptions.ProducerGroup"/> calling the broker through <paramref name="grains"/>.</summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidTransaction"/> without a producer group; InvalidGroupName / InvalidArgument for bad options.</exception>
    public TransactionProducer(IGrainFactory grains, ProducerOptions options, ITransactionListener listener, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(listener);
        TransactionRules.CheckProducerGroup(options.ProducerGroup);
        _producer = new Producer(grains, options, loggerFactory);
        _options = _producer.Options;
        _group = _options.ProducerGroup!;
        _listener = listener;
        _grains = grains;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<TransactionProducer>();
        _coordinator = grains.GetGrain<ITransactionCoordinatorGrain>(_group);
        ClientId = $"{Environment.MachineName}@{Environment.ProcessId}@{Guid.NewGuid().ToString("N")[..8]}";
        _observerTarget = new TransactionCheckObserver(this);
        _observer = grains.CreateObjectReference<ITransactionCheckObserver>(_observerTarget);
        _firstHeartbeat = HeartbeatAsync(_stop.Token);
        _heartbeats = Task.Run(() => HeartbeatLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>This instance's id in its producer group (host@pid@random).</summary>
    public string ClientId { get; }

    /// <summary>The producer's settings (a copy; changing it has no effect).</summary>
    public ProducerOptions Options => _producer.Options;

    /// <summary>
    /// Waits until the group's coordinator knows this instance (registration starts on construction; sends wait for it
    /// too). Useful for an instance that only answers check-backs.
    /// </summary>
    /// <exception cref="MQException">BrokerUnavailable when the broker cannot be reached (registration keeps being retried).</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) => _firstHeartbeat.WaitAsync(cancellationToken);

    /// <summary>Sends an ordinary (non-transactional) message, as <see cref="Producer.SendAsync(Message, CancellationToken)"/>.</summary>
    public Task<SendResult> SendAsync(Message message, CancellationToken cancellationToken = default) => _producer.SendAsync(message, cancellationToken);

    /// <summary>
    /// Sends <paramref name="message"/> in a transaction: stores it as a half message, runs the listener's
    /// <see cref="ITransactionListener.ExecuteLocalTransactionAsync"/> with <paramref name="arg"/>, and reports its answer to
    /// the broker. An exception in the local transaction counts as Unknown (logged); so does a failure to report the answer
    /// (the broker then checks it back). Cancelling while the local transaction runs leaves the transaction unknown too.
    /// </summary>
    /// <exception cref="MQException">
    /// Validation errors (nothing stored): InvalidTransaction for a delayed message, MessageTypeMismatch for a FIFO topic,
    /// the message rules' codes; TopicNotFound / TopicDeleted; the last error after the send retries.
    /// </exception>
    public async Task<TransactionSendResult> SendMessageInTransactionAsync(Message message, object? arg = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new MQException(MQErrorCode.ClientNotStarted, "the transaction producer is disposed; create a new one");
        }
        // Registered (or at least tried) before the first half message exists, so its check-back finds this instance.
        await _firstHeartbeat.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();

        var half = await _producer.SendHalfAsync(message, _group, cancellationToken).ConfigureAwait(false);
        LocalTransactionState local;
        try
        {
            local = await _listener.ExecuteLocalTransactionAsync(message, arg, cancellationToken).ConfigureAwait(false);
            if (!Enum.IsDefined(local))
            {
                _logger.InvalidLocalState(half.TransactionId, local.ToString());
                local = LocalTransactionState.Unknown;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            _logger.LocalTransactionFailed(ex, half.TransactionId, _group);
            local = LocalTransactionState.Unknown;
        }

        var result = new TransactionSendResult(half.TransactionId, half.TransactionId, half.Queue, local, TransactionState.Pending, half.StoredAt);
        if (local == LocalTransactionState.Unknown)
        {
            return result;
        }
        try
        {
            var ended = await EndAsync(half.TransactionId, local, cancellationToken).ConfigureAwait(false);
            return result with { State = ended.State, QueueOffset = ended.QueueOffset };
        }
        catch (MQException ex) when (ex.Code == MQErrorCode.TransactionAlreadyResolved)
        {
            // A check-back (or an operator) decided first, and differently: that decision stands; report it.
            _logger.EndTransactionFailed(half.TransactionId, local, ex.Message);
            var current = await EndAsync(half.TransactionId, LocalTransactionState.Unknown, cancellationToken).ConfigureAwait(false);
            return result with { State = current.State, QueueOffset = current.QueueOffset };
        }
        catch (MQException ex)
        {
            // As RocketMQ: the local transaction ran, so the send succeeded; the broker checks the outcome back.
            _logger.EndTransactionFailed(half.TransactionId, local, ex.Message);
            return result;
        }
    }

    /// <summary>Stops heartbeats, leaves the producer group (check-backs go to the other instances) and waits for accepted sends.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            await BrokerErrors.Call(() => _coordinator.UnregisterProducer(ClientId).WaitAsync(_options.SendMsgTimeout),
                $"leave producer group '{_group}'", CancellationToken.None).ConfigureAwait(false);
        }
        catch (MQException ex)
        {
            _logger.UnregisterFailed(_group, ex.Message);
        }
        try
        {
            _grains.DeleteObjectReference<ITransactionCheckObserver>(_observer);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ObjectDisposedException)
        {
            // the client is gone already
        }
        await _producer.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Answers a check-back from the broker (called by the observer on Orleans' threads).</summary>
    internal async Task<LocalTransactionState> CheckAsync(TransactionCheckRequest request)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return LocalTransactionState.Unknown;
        }
        try
        {
            var state = await _listener.CheckLocalTransactionAsync(request.Message, _stop.Token).ConfigureAwait(false);
            return Enum.IsDefined(state) ? state : LocalTransactionState.Unknown;
        }
        catch (Exception ex)
        {
            _logger.CheckFailed(ex, request.TransactionId, _group);
            return LocalTransactionState.Unknown;
        }
    }

    private Task<EndTransactionResult> EndAsync(string transactionId, LocalTransactionState state, CancellationToken cancellationToken) =>
        BrokerErrors.Call(
            () => BrokerErrors.WaitAsync(_coordinator.EndTransaction(new EndTransactionRequest(transactionId, state, TransactionResolver.Producer)), _options.SendMsgTimeout, cancellationToken),
            $"end transaction {transactionId} of producer group '{_group}'", cancellationToken);

    private Task HeartbeatAsync(CancellationToken cancellationToken) =>
        BrokerErrors.Call(
            () => _coordinator.RegisterProducer(new TransactionProducerHeartbeat(ClientId, Environment.MachineName, _observer)),
            $"register with producer group '{_group}'", cancellationToken);

    private async Task HeartbeatLoopAsync(CancellationToken stop)
    {
        var failed = false;
        try
        {
            await _firstHeartbeat.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.HeartbeatFailed(_group, ex.Message);
            failed = true;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(failed && HeartbeatRetryDelay < _options.HeartbeatInterval ? HeartbeatRetryDelay : _options.HeartbeatInterval, stop).ConfigureAwait(false);
                await HeartbeatAsync(stop).ConfigureAwait(false);
                failed = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.HeartbeatFailed(_group, ex.Message);
                failed = true;
            }
        }
    }

    /// <summary>The producer's ear on its group's coordinator: check-backs arrive here and go to the listener.</summary>
    private sealed class TransactionCheckObserver(TransactionProducer producer) : ITransactionCheckObserver
    {
        public Task<LocalTransactionState> CheckLocalTransaction(TransactionCheckRequest request) => producer.CheckAsync(request);
    }
}
