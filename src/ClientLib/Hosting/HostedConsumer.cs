using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Client.Hosting;

/// <summary>
/// Runs one registered consumer for the life of the host: starts its push consumer once every hosted service has
/// started (so the Orleans client or OrleansMQ connection is up, whatever the registration order) and stops it first
/// when the host stops, so in-flight messages finish and the instance leaves its group at once.
/// </summary>
internal sealed partial class HostedConsumer(
    IServiceProvider services,
    IBrokerGrainSource broker,
    HostedConsumerOptions options,
    Func<IServiceProvider, MessageExt, CancellationToken, Task> handle,
    string handlerName,
    ILoggerFactory loggerFactory) : IHostedLifecycleService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<HostedConsumer>();
    private PushConsumer? _consumer;

    /// <summary>Checks the registration before anything starts, so a bad topic or expression fails the host's start.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Names.CheckTopic(options.Topic);
        Names.CheckGroup(options.Consumer.ConsumerGroup);
        options.Selector.Compile();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var consumer = new PushConsumer(broker.Grains, options.Consumer, loggerFactory);
        consumer.Subscribe(options.Topic, options.Selector);
        if (options.ConsumeMode == ConsumeMode.Orderly)
        {
            consumer.RegisterMessageListener((IReadOnlyList<MessageExt> messages, ConsumeOrderlyContext _, CancellationToken ct) => ConsumeOrderlyAsync(messages, ct));
        }
        else
        {
            consumer.RegisterMessageListener((IReadOnlyList<MessageExt> messages, ConsumeConcurrentlyContext context, CancellationToken ct) => ConsumeConcurrentlyAsync(messages, context, ct));
        }
        await consumer.StartAsync(cancellationToken).ConfigureAwait(false);
        _consumer = consumer;
        LogStarted(handlerName, options.Topic, options.Selector.ToString(), options.Consumer.ConsumerGroup, options.ConsumeMode);
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var consumer = Interlocked.Exchange(ref _consumer, null);
        if (consumer is not null)
        {
            await consumer.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<ConsumeResult> ConsumeConcurrentlyAsync(IReadOnlyList<MessageExt> messages, ConsumeConcurrentlyContext context, CancellationToken cancellationToken)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (!await TryHandleAsync(messages[i], cancellationToken).ConfigureAwait(false))
            {
                // The ones handled before the failure are done; the failed one and those after it come again.
                if (i == 0) return ConsumeResult.ReconsumeLater;
                context.AckIndex = i - 1;
                return ConsumeResult.Success;
            }
        }
        return ConsumeResult.Success;
    }

    private async Task<ConsumeOrderlyStatus> ConsumeOrderlyAsync(IReadOnlyList<MessageExt> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (!await TryHandleAsync(message, cancellationToken).ConfigureAwait(false))
            {
                return ConsumeOrderlyStatus.SuspendCurrentQueueAMoment;
            }
        }
        return ConsumeOrderlyStatus.Success;
    }

    private async Task<bool> TryHandleAsync(MessageExt message, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            await handle(scope.ServiceProvider, message, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogHandlerFailed(e, handlerName, message.MsgId, message.Topic, message.ReconsumeTimes);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Handler} started: topic {Topic} ({Expression}), group {Group}, {Mode}")]
    private partial void LogStarted(string handler, string topic, string expression, string group, ConsumeMode mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Handler} failed on message {MsgId} of {Topic} (reconsumed {ReconsumeTimes} times); it will be delivered again")]
    private partial void LogHandlerFailed(Exception exception, string handler, string msgId, string topic, int reconsumeTimes);
}
