using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;

namespace OrleansMQ.Cli.Commands.Messages;

/// <summary>
/// <c>orleansmq consume --orderly | --broadcast</c>: prints messages with a push consumer (orderly listener and/or
/// broadcasting model). Only printed messages count as consumed: once --count is reached, further messages are
/// handed back unconsumed, so the offsets committed on exit stop right after the last printed one.
/// </summary>
internal static class PushConsumeRun
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    public sealed record Settings(
        string Topic, string Group, MessageSelector Selector, int Limit, TimeSpan? IdleExit, bool Json, StartPoint From, bool Orderly, bool Broadcast, string? InstanceName);

    public static async Task<int> ExecuteAsync(OrleansMQConnection connection, Settings settings, CancellationToken cancellationToken)
    {
        if (await connection.CreateAdminClient().GetTopicConfigAsync(settings.Topic, cancellationToken) is null)
        {
            throw new MQException(MQErrorCode.TopicNotFound, $"topic '{settings.Topic}' does not exist; 'orleansmq topic list' shows the topics");
        }
        var options = new PushConsumerOptions
        {
            ConsumerGroup = settings.Group,
            MessageModel = settings.Broadcast ? MessageModel.Broadcasting : MessageModel.Clustering,
            ConsumeThreadCount = 1, // one printer: lines never interleave
        };
        settings.From.ApplyTo(options);
        if (settings.InstanceName is not null)
        {
            options.InstanceName = settings.InstanceName;
        }
        var printed = 0;
        var outputClosed = false;
        var gate = new object();
        var lastPrinted = Stopwatch.StartNew();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Prints what fits under --count and returns how many of the messages it printed.
        int PrintSome(IReadOnlyList<MessageExt> messages)
        {
            lock (gate)
            {
                var n = 0;
                foreach (var message in messages)
                {
                    if (printed >= settings.Limit || outputClosed)
                    {
                        break;
                    }
                    try
                    {
                        MessagePrinter.Print(message, settings.Json);
                    }
                    catch (OutputClosedException)
                    {
                        // `consume … --orderly | head -n 3`: stop as --count would, with this message not consumed.
                        outputClosed = true;
                        done.TrySetResult();
                        break;
                    }
                    printed++;
                    n++;
                }
                lastPrinted.Restart();
                if (printed >= settings.Limit)
                {
                    done.TrySetResult();
                }
                return n;
            }
        }

        // Once --count is reached the listener hands every further message back on purpose; the consumer's warnings
        // about messages not consumed would then read as failures.
        await using var consumer = new PushConsumer(connection.Grains, options, new QuietWhen(connection.LoggerFactory, () => done.Task.IsCompleted));
        consumer.Subscribe(settings.Topic, settings.Selector);
        if (settings.Orderly)
        {
            consumer.RegisterMessageListener((messages, context, _) =>
            {
                if (PrintSome(messages) == messages.Count)
                {
                    return Task.FromResult(ConsumeOrderlyStatus.Success);
                }
                // Over --count: hand the rest back and leave the queue alone until the consumer has stopped.
                context.SuspendCurrentQueueTime = StopTimeout * 4;
                return Task.FromResult(ConsumeOrderlyStatus.SuspendCurrentQueueAMoment);
            });
        }
        else
        {
            consumer.RegisterMessageListener((messages, context, _) =>
            {
                var n = PrintSome(messages);
                context.AckIndex = n - 1;
                return Task.FromResult(n > 0 ? ConsumeResult.Success : ConsumeResult.ReconsumeLater);
            });
        }
        await consumer.StartAsync(cancellationToken);
        lock (gate)
        {
            lastPrinted.Restart(); // --idle-exit counts from the start of consumption, not from connecting
        }
        var interrupted = false;
        try
        {
            while (!done.Task.IsCompleted)
            {
                await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                if (settings.IdleExit is { } idle && lastPrinted.Elapsed > idle)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(StopTimeout);
            await consumer.StopAsync(stopTimeout.Token);
        }
        var mode = (settings.Orderly ? "orderly" : "concurrently") + (settings.Broadcast ? $", broadcasting as instance '{options.InstanceName}'" : "");
        Output.Note($"consumed {printed} message(s) from {settings.Topic} ({mode}){(interrupted ? " (interrupted)" : outputClosed ? " (stdout closed)" : "")}; offsets committed");
        return ExitCodes.Ok;
    }
}

/// <summary>A logger factory whose push-consumer loggers drop warnings and below while <paramref name="quiet"/> holds.</summary>
internal sealed class QuietWhen(ILoggerFactory inner, Func<bool> quiet) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return categoryName.StartsWith("OrleansMQ.Client.PushConsumer", StringComparison.Ordinal) ? new Quiet(logger, quiet) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The connection owns the inner factory.
    }

    private sealed class Quiet(ILogger inner, Func<bool> quiet) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel) && (logLevel > LogLevel.Warning || !quiet());

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
