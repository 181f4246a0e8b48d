using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;

namespace OrleansMQ.Client;

/// <summary>
/// Sends messages, as RocketMQ's DefaultMQProducer: sync (<see cref="SendAsync(Message, CancellationToken)"/>
/// returns once the message is durable), callback, one-way, batch and selector (ordered) sends.
/// Thread-safe; one producer per application is the rule, and it is ready to use when constructed.
/// </summary>
/// <remarks>
/// <para>Every message is validated before anything is sent (typed <see cref="MQException"/>, nothing sent).</para>
/// <para>
/// Concurrent sends to one queue are coalesced into one broker call of up to
/// <see cref="ProducerOptions.MaxMessagesPerCall"/> messages, so throughput grows with concurrency: issue many
/// sends at once (e.g. <c>Task.WhenAll</c>) rather than one after the other. Each send still gets its own result.
/// </para>
/// <para>
/// Cancellation: a send whose token is cancelled before it is handed to a broker call is dropped and throws
/// <see cref="OperationCanceledException"/>; once in a call it cannot be recalled, and cancelling only stops the
/// wait (the message may still be stored).
/// </para>
/// <para>
/// Retries: a send failing with a retryable error (<see cref="MQException.IsRetryable"/>: broker unreachable,
/// store unavailable, store conflict) is retried up to <see cref="ProducerOptions.RetryTimesWhenSendFailed"/> times on
/// another queue (selector sends: on the queue the selector chooses again). A failure that leaves the outcome
/// unknown (a timeout) may therefore store a message twice: delivery is at-least-once.
/// </para>
/// </remarks>
public sealed class Producer : IAsyncDisposable
{
    /// <summary>One-way sends accepted but not yet finished, as RocketMQ's clientOnewaySemaphoreValue: beyond it <see cref="SendOneWayAsync"/> waits.</summary>
    internal const int MaxOneWayInFlight = 65_535;

    private static readonly TimeSpan SameQueueRetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly IGrainFactory _grains;
    private readonly ProducerOptions _options;
    private readonly ILogger _logger;
    private readonly TopicRouteCache _routes;
    private readonly ConcurrentDictionary<MessageQueue, SendCoalescer> _coalescers = new();
    private readonly Func<MessageQueue, SendCoalescer> _createCoalescer;
    private readonly SemaphoreSlim _oneWaySlots = new(MaxOneWayInFlight, MaxOneWayInFlight);
    private readonly OperationTracker _operations = new();
    private readonly string _bornHost = Environment.MachineName;

    /// <summary>A producer calling the broker through <paramref name="grains"/> (an <see cref="OrleansMQConnection"/>'s, or your own Orleans client's).</summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidGroupName"/> / <see cref="MQErrorCode.InvalidArgument"/> for bad options.</exception>
    public Producer(IGrainFactory grains, ProducerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        _options = (options ?? new ProducerOptions()).Snapshot();
        _options.Validate();
        _grains = grains;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Producer>();
        var autoCreate = _options.AutoCreateTopics;
        var sendTimeout = _options.SendMsgTimeout;
        // Bounded by the send timeout as appends are: a route request dropped by a stopping silo would otherwise wait
        // for Orleans' 30 s response timeout before the send could try again.
        _routes = new TopicRouteCache(topic => grains.GetGrain<ITopicGrain>(topic).GetRoute(autoCreate).WaitAsync(sendTimeout),
            _options.RouteRefreshInterval, _logger);
        _createCoalescer = CreateCoalescer;
    }

    /// <summary>The producer's settings (a copy; changing it has no effect).</summary>
    public ProducerOptions Options => _options.Snapshot();

    /// <summary>Sends one message and returns once it is durably stored.</summary>
    /// <exception cref="MQException">Validation errors (nothing sent), TopicNotFound / TopicDeleted, or the last error after the retries.</exception>
    public async Task<SendResult> SendAsync(Message message, CancellationToken cancellationToken = default)
    {
        var (topic, data) = Prepare(message);
        var schedule = ScheduledSend.Of(message);
        Enter();
        try
        {
            var (queue, outcome) = await AppendWithRetriesAsync(topic, [data], MessageRules.SizeOf(data), MessageGroupChoice(message), cancellationToken, schedule).ConfigureAwait(false);
            return new SendResult(SendStatus.SendOk, data.MsgId, queue, outcome.FirstOffset, outcome.StoredAt) { ScheduleQueue = schedule?.Schedule };
        }
        finally
        {
            _operations.Exit();
        }
    }

    /// <summary>
    /// Sends one message and reports the outcome to a callback, as RocketMQ's <c>send(msg, SendCallback)</c>.
    /// The returned task completes after the callback has run and never faults (a callback that throws is logged).
    /// </summary>
    public Task SendAsync(Message message, Action<SendResult> onSuccess, Action<Exception> onException, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(onSuccess);
        ArgumentNullException.ThrowIfNull(onException);
        return SendWithCallbacksAsync(message, onSuccess, onException, cancellationToken);
    }

    /// <summary>
    /// Sends one message to the queue <paramref name="selector"/> picks (e.g. <see cref="SelectMessageQueueByHash"/>
    /// with the order id as <paramref name="arg"/>, so one order's messages stay in order on one queue).
    /// Retries go to the queue the selector picks again, never elsewhere.
    /// </summary>
    public async Task<SendResult> SendAsync(Message message, IMessageQueueSelector selector, object? arg, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var (topic, data) = Prepare(message);
        var schedule = ScheduledSend.Of(message);
        Enter();
        try
        {
            var choice = new SelectorChoice(selector, message, arg);
            var (queue, outcome) = await AppendWithRetriesAsync(topic, [data], MessageRules.SizeOf(data), choice, cancellationToken, schedule).ConfigureAwait(false);
            return new SendResult(SendStatus.SendOk, data.MsgId, queue, outcome.FirstOffset, outcome.StoredAt) { ScheduleQueue = schedule?.Schedule };
        }
        finally
        {
            _operations.Exit();
        }
    }

    /// <summary>
    /// Sends messages of one topic atomically to one queue (all stored, at consecutive offsets, or none), as
    /// RocketMQ's batch send. At most <see cref="Limits.DefaultMaxBatchBytes"/> (4 MiB) in all.
    /// </summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidBatch"/> for an empty batch, mixed topics or too many bytes;
    /// a message's own validation error (prefixed with its index) when one message is invalid.</exception>
    public async Task<IReadOnlyList<SendResult>> SendAsync(IEnumerable<Message> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var (topic, data, bytes) = PrepareBatch(batch);
        Enter();
        try
        {
            var (queue, outcome) = await AppendWithRetriesAsync(topic, data, bytes, MessageGroupChoice(message: null, data[0]), cancellationToken).ConfigureAwait(false);
            var results = new SendResult[data.Length];
            for (var i = 0; i < data.Length; i++)
            {
                results[i] = new SendResult(SendStatus.SendOk, data[i].MsgId, queue, outcome.FirstOffset + i, outcome.StoredAt);
            }
            return results;
        }
        finally
        {
            _operations.Exit();
        }
    }

    /// <summary>
    /// Sends one message without waiting for the outcome, as RocketMQ's <c>sendOneway</c>: returns once the
    /// message is validated and accepted into the send buffer. Failures are only logged; the message is then lost.
    /// Waits when <see cref="MaxOneWayInFlight"/> one-way sends are still unfinished.
    /// </summary>
    public async Task SendOneWayAsync(Message message, CancellationToken cancellationToken = default)
    {
        var (topic, data) = Prepare(message);
        var schedule = ScheduledSend.Of(message);
        await _oneWaySlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!_operations.TryEnter())
        {
            _oneWaySlots.Release();
            throw Disposed();
        }
        _ = CompleteOneWayAsync(topic, data, schedule);
    }

    /// <summary>Stops accepting sends and waits until every accepted one (one-way sends and retries included) has finished.</summary>
    public async ValueTask DisposeAsync()
    {
        await _operations.CloseAsync().ConfigureAwait(false);
        foreach (var coalescer in _coalescers.Values)
        {
            coalescer.Close();
        }
        _logger.Closed();
    }

    private Task<(MessageQueue Queue, AppendOutcome Outcome)> AppendWithRetriesAsync(
        string topic, MessageData[] messages, int bytes, SelectorChoice? choice, CancellationToken cancellationToken, ScheduledSend? schedule = null) =>
        SendWithRetriesAsync(topic, messages.Length, choice,
            route =>
            {
                foreach (var message in messages)
                {
                    MessageTypeRules.CheckFitsTopic(topic, route.MessageType, schedule is null ? MessageTypeRules.KindOf(message) : TopicMessageType.Delay);
                }
            },
            queue =>
            {
                // A delayed or timer message goes to its schedule, addressed to the queue picked for it.
                var payload = schedule is null ? messages : schedule.Stamp(messages, queue);
                return _coalescers.GetOrAdd(schedule?.Schedule ?? queue, _createCoalescer)
                    .AppendAsync(payload, schedule is null ? bytes : payload.Sum(MessageRules.SizeOf), cancellationToken);
            },
            cancellationToken);

    /// <summary>
    /// One send with its retries: fetch the route, let <paramref name="checkRoute"/> refuse the topic, pick a queue (or let
    /// the selector pick it), and <paramref name="send"/> to it; a retryable failure tries another queue (or the selector's
    /// again) up to <see cref="ProducerOptions.RetryTimesWhenSendFailed"/> times.
    /// </summary>
    private async Task<(MessageQueue Queue, T Result)> SendWithRetriesAsync<T>(
        string topic, int messageCount, SelectorChoice? choice, Action<TopicRoute> checkRoute, Func<MessageQueue, Task<T>> send, CancellationToken cancellationToken)
    {
        var maxAttempts = 1 + _options.RetryTimesWhenSendFailed;
        var failedQueueId = -1;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TopicPublishInfo? info = null;
            MessageQueue? queue = null;
            try
            {
                info = await _routes.GetAsync(topic, cancellationToken).ConfigureAwait(false);
                CheckWritable(info.Route);
                checkRoute(info.Route);
                queue = choice is null
                    ? info.Queues[info.Picker.Pick(info.Queues.Count, failedQueueId)]
                    : choice.Select(info);
                return (queue, await send(queue).ConfigureAwait(false));
            }
            catch (MQException ex) when (!ex.IsRetryable && ex.Code is MQErrorCode.TopicNotFound or MQErrorCode.TopicDeleted)
            {
                _routes.Invalidate(topic);
                throw;
            }
            catch (MQException ex) when (attempt < maxAttempts && (ex.IsRetryable || ex.Code == MQErrorCode.QueueNotFound))
            {
                if (ex.Code == MQErrorCode.QueueNotFound)
                {
                    _routes.Invalidate(topic); // the queue count shrank: the next attempt fetches the new route
                }
                if (queue is not null)
                {
                    info!.Picker.MarkFailed(queue.QueueId);
                    failedQueueId = queue.QueueId;
                }
                _logger.SendRetrying(messageCount, queue?.ToString() ?? topic, attempt, maxAttempts, ex.Message,
                    choice is null ? "another queue" : "the queue the selector picks");
                if (choice is not null)
                {
                    // The same queue again: give a restarting silo or store a moment.
                    await Task.Delay(SameQueueRetryDelay * attempt, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// The first step of a transaction send (<see cref="TransactionProducer"/>): validates the message as any send, refuses
    /// what a transaction message may not be, and stores it as a half message with the coordinator of
    /// <paramref name="producerGroup"/>, on the queue a send would pick (retried like a send; the same message id each time,
    /// which the coordinator stores once).
    /// </summary>
    internal async Task<HalfMessageResult> SendHalfAsync(Message message, string producerGroup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.DelayLevel != 0 || message.DeliverAt is not null || message.DeliverAfter is not null)
        {
            throw new MQException(MQErrorCode.InvalidTransaction,
                "a transaction message cannot be delayed (DelayLevel, DeliverAt, DeliverAfter): it is delivered when it commits (as RocketMQ 5)");
        }
        var (topic, data) = Prepare(message);
        TransactionRules.CheckMessage(data);
        var half = TransactionRules.AsHalf(data, producerGroup);
        var coordinator = _grains.GetGrain<ITransactionCoordinatorGrain>(producerGroup);
        Enter();
        try
        {
            var (_, stored) = await SendWithRetriesAsync(topic, 1, MessageGroupChoice(message),
                route => TransactionRules.CheckFitsTopic(topic, route.MessageType),
                queue => BrokerErrors.Call(
                    () => BrokerErrors.WaitAsync(coordinator.Prepare(new HalfMessageRequest(queue, half)), _options.SendMsgTimeout, cancellationToken),
                    $"store half message {half.MsgId} for {queue}", cancellationToken),
                cancellationToken).ConfigureAwait(false);
            return stored;
        }
        finally
        {
            _operations.Exit();
        }
    }

    private SendCoalescer CreateCoalescer(MessageQueue queue)
    {
        return new SendCoalescer(
            queue,
            AppendTo(queue),
            _options.MaxMessagesPerCall,
            Limits.DefaultMaxBatchBytes,
            _options.MaxCallsInFlightPerQueue,
            _options.SendMsgTimeout);
    }

    /// <summary>The broker call that stores messages on <paramref name="queue"/>: a queue grain, or a delay level's or timer queue's schedule.</summary>
    private Func<IReadOnlyList<MessageData>, Task<AppendResult>> AppendTo(MessageQueue queue)
    {
        switch (queue.Topic)
        {
            case ScheduleTopics.DelayTopic:
                var level = _grains.GetGrain<IDelayLevelGrain>(queue.QueueId + 1);
                return messages => level.Schedule(new AppendRequest(messages));
            case ScheduleTopics.TimerTopic:
                var timer = _grains.GetGrain<ITimerGrain>(queue.QueueId);
                return messages => timer.Schedule(new AppendRequest(messages));
            default:
                var grain = _grains.GetGrain<IQueueGrain>(queue.QueueId, queue.Topic);
                return messages => grain.Append(new AppendRequest(messages));
        }
    }

    private async Task SendWithCallbacksAsync(Message message, Action<SendResult> onSuccess, Action<Exception> onException, CancellationToken cancellationToken)
    {
        SendResult result;
        try
        {
            result = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Invoke(onException, ex);
            return;
        }
        Invoke(onSuccess, result);
    }

    private void Invoke<T>(Action<T> callback, T argument)
    {
        try
        {
            callback(argument);
        }
        catch (Exception ex)
        {
            _logger.CallbackFailed(ex);
        }
    }

    private async Task CompleteOneWayAsync(string topic, MessageData data, ScheduledSend? schedule)
    {
        try
        {
            await AppendWithRetriesAsync(topic, [data], MessageRules.SizeOf(data), MessageGroupChoice(message: null, data), CancellationToken.None, schedule).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.OneWayFailed(ex, data.MsgId, topic);
        }
        finally
        {
            _oneWaySlots.Release();
            _operations.Exit();
        }
    }

    private (string Topic, MessageData Data) Prepare(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var topic = message.Topic;
        Names.CheckTopic(topic);
        var data = ToMessageData(message);
        MessageRules.Check(data, _options.MaxBodyBytes);
        MessageConst.CheckUserProperties(data.Properties);
        return (topic, data);
    }

    private (string Topic, MessageData[] Data, int Bytes) PrepareBatch(IEnumerable<Message> batch)
    {
        var messages = batch as IReadOnlyList<Message> ?? [.. batch];
        if (messages.Count == 0)
        {
            throw new MQException(MQErrorCode.InvalidBatch, "the batch is empty; a batch needs at least one message");
        }
        var topic = (messages[0] ?? throw new ArgumentNullException(nameof(batch), "the batch contains a null message at index 0")).Topic;
        Names.CheckTopic(topic);
        var data = new MessageData[messages.Count];
        long bytes = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentNullException(nameof(batch), $"the batch contains a null message at index {i}");
            if (!string.Equals(message.Topic, topic, StringComparison.Ordinal))
            {
                throw new MQException(MQErrorCode.InvalidBatch,
                    $"message {i} of the batch is for topic '{message.Topic}' but message 0 is for '{topic}'; a batch goes to one topic");
            }
            data[i] = ToMessageData(message);
            try
            {
                if (message.DelayLevel != 0 || message.DeliverAt is not null || message.DeliverAfter is not null)
                {
                    throw new MQException(MQErrorCode.InvalidBatch, "a batch is delivered at once; send delayed or timer messages one by one (as RocketMQ)");
                }
                MessageRules.Check(data[i], _options.MaxBodyBytes);
                MessageConst.CheckUserProperties(data[i].Properties);
            }
            catch (MQException ex)
            {
                throw new MQException(ex.Code, $"message {i} of the batch: {ex.Message}", ex);
            }
            bytes += MessageRules.SizeOf(data[i]);
        }
        var groups = data.Select(d => d.Properties?.GetValueOrDefault(MessageTypeRules.MessageGroupProperty)).Distinct().ToList();
        if (groups.Count > 1)
        {
            throw new MQException(MQErrorCode.InvalidBatch,
                $"the batch mixes message groups ({string.Join(", ", groups.Select(g => g ?? "none"))}); a batch goes to one queue, so its messages share one message group or none");
        }
        if (bytes > Limits.DefaultMaxBatchBytes)
        {
            throw new MQException(MQErrorCode.InvalidBatch,
                $"the batch of {messages.Count} messages is {bytes} bytes (bodies plus properties); the maximum is {Limits.DefaultMaxBatchBytes} bytes (4 MiB): split it");
        }
        return (topic, data, (int)bytes);
    }

    private MessageData ToMessageData(Message message) => new(
        MessageIds.NewId(),
        message.Tag,
        message.Keys is { Count: > 0 } keys ? [.. keys] : [],
        message.Body,
        PropertiesOf(message),
        DateTimeOffset.UtcNow,
        _bornHost,
        _options.ProducerGroup);

    private static Dictionary<string, string>? PropertiesOf(Message message)
    {
        if (message.MessageGroup is null)
        {
            return message.Properties is { Count: > 0 } properties ? new Dictionary<string, string>(properties, StringComparer.Ordinal) : null;
        }
        if (message.MessageGroup.Length == 0 || message.MessageGroup.Length > Limits.MaxTagLength)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"message group '{message.MessageGroup}' must be 1 to {Limits.MaxTagLength} characters");
        }
        return new Dictionary<string, string>(message.Properties ?? [], StringComparer.Ordinal)
        {
            [MessageTypeRules.MessageGroupProperty] = message.MessageGroup,
        };
    }

    /// <summary>A message with a <see cref="Message.MessageGroup"/> goes to the queue its group hashes to, as a hash-selector send would.</summary>
    private static SelectorChoice? MessageGroupChoice(Message? message, MessageData? data = null)
    {
        var group = message?.MessageGroup ?? (data?.Properties is { } p && p.TryGetValue(MessageTypeRules.MessageGroupProperty, out var g) ? g : null);
        return group is null ? null : new SelectorChoice(SelectMessageQueueByHash.Instance, message ?? new Message(), group);
    }

    private static void CheckWritable(TopicRoute route)
    {
        if (!route.Permission.HasFlag(TopicPermission.Write))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"topic '{route.Topic}' is not writable (permission {route.Permission})");
        }
    }

    private void Enter()
    {
        if (!_operations.TryEnter())
        {
            throw Disposed();
        }
    }

    private static MQException Disposed() => new(MQErrorCode.ClientNotStarted, "the producer is disposed; create a new one");

    /// <summary>A selector send: the user's selector, checked to pick one of the topic's queues.</summary>
    private sealed class SelectorChoice(IMessageQueueSelector selector, Message message, object? arg)
    {
        public MessageQueue Select(TopicPublishInfo info)
        {
            MessageQueue? chosen;
            try
            {
                chosen = selector.Select(info.Queues, message, arg);
            }
            catch (Exception ex) when (ex is not MQException)
            {
                throw new MQException(MQErrorCode.InvalidArgument, $"the message queue selector {selector.GetType().Name} threw: {ex.Message}", ex);
            }
            if (chosen is null || chosen.Topic != info.Route.Topic || chosen.QueueId < 0 || chosen.QueueId >= info.Queues.Count)
            {
                throw new MQException(MQErrorCode.InvalidArgument,
                    $"the message queue selector {selector.GetType().Name} returned {chosen?.ToString() ?? "null"}, which is not one of the {info.Queues.Count} queues of topic '{info.Route.Topic}'");
            }
            return info.Queues[chosen.QueueId];
        }
    }
}
