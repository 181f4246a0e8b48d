using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// <c>orleansmq bench consume --orderly</c>: orderly push-consumer throughput over a topic filled by
/// <c>bench produce --orderly</c>, checking every key's order (the body starts with <c>run/key:seq|</c>). With
/// <c>--instances N --leave-after T</c> it runs N instances of one group in this process and stops the first one
/// gracefully after T: the report says how long its queues stood still before another instance resumed them.
/// </summary>
internal sealed class OrderlyConsumeBench
{
    private readonly ConcurrentDictionary<string, long> _lastSeq = new(StringComparer.Ordinal);
    private readonly object _handoverGate = new();
    private long _messages;
    private long _bytes;
    private long _duplicates;
    private long _gaps;
    private long _firstAt;
    private long _lastAt;

    // Handover of the leaving instance's queues: when it was asked to stop, when it had left, the last message it
    // consumed on them, and the first one another instance consumed on them afterwards.
    private HashSet<MessageQueue>? _moved;
    private string? _leaver;
    private long _leaveRequestedAt;
    private long _leftAt;
    private long _lastByLeaverAt;
    private long _firstResumedAt;

    public sealed record Settings(string Topic, string Group, TimeSpan Duration, bool FromFirst, int PullBatch, int Instances, TimeSpan? LeaveAfter, bool Json);

    public static async Task<int> RunAsync(OrleansMQConnection connection, Settings settings, CancellationToken cancellationToken)
    {
        var bench = new OrderlyConsumeBench();
        var status = await connection.CreateAdminClient().GetTopicStatusAsync(settings.Topic, cancellationToken);
        var stored = status.Sum(q => q.MaxOffset - q.MinOffset);
        Output.Note($"bench consume --orderly: topic {settings.Topic} holds {stored:N0} message(s) in {status.Count} queue(s); group {settings.Group}, " +
                    $"{settings.Instances} instance(s){(settings.LeaveAfter is { } t ? $", the first leaves after {Durations.Format(t)}" : "")}");
        var consumers = new List<PushConsumer>();
        var started = Stopwatch.GetTimestamp();
        try
        {
            for (var i = 0; i < settings.Instances; i++)
            {
                var clientId = $"bench-{i}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
                var consumer = connection.CreatePushConsumer(new PushConsumerOptions
                {
                    ConsumerGroup = settings.Group,
                    ClientId = clientId,
                    ConsumeFromWhere = settings.FromFirst ? ConsumeFromWhere.FirstOffset : ConsumeFromWhere.LastOffset,
                    PullBatchSize = settings.PullBatch,
                });
                consumer.Subscribe(settings.Topic, "*");
                consumer.RegisterMessageListener((messages, context, _) => Task.FromResult(bench.Consume(clientId, context.Queue, messages)));
                consumers.Add(consumer);
            }
            await Task.WhenAll(consumers.Select(c => c.StartAsync(cancellationToken)));

            long lastCount = 0, lastTimestamp = started;
            await using (BenchProgress.Start(elapsed =>
                $"consume --orderly {elapsed.TotalSeconds:0}s: {BenchProgress.Rate(Interlocked.Read(ref bench._messages), ref lastCount, ref lastTimestamp)} msg/s, " +
                $"{Interlocked.Read(ref bench._messages):N0} in all"))
            {
                var leaving = settings.LeaveAfter is { } after ? bench.LeaveAsync(consumers[0], after, cancellationToken) : Task.CompletedTask;
                await bench.WaitUntilDoneAsync(started, settings.Duration, settings.FromFirst ? stored : 0, cancellationToken);
                await leaving;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Output.Note("interrupted; reporting what was consumed so far");
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await Task.WhenAll(consumers.Select(c => c.StopAsync(stopTimeout.Token)));
        }
        bench.Report(settings, started).Print(settings.Json);
        return ExitCodes.Ok;
    }

    private ConsumeOrderlyStatus Consume(string clientId, MessageQueue queue, IReadOnlyList<MessageExt> messages)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _firstAt, now, 0);
        Volatile.Write(ref _lastAt, now);
        foreach (var message in messages)
        {
            CheckOrder(message);
            Interlocked.Add(ref _bytes, message.Body.Length);
        }
        Interlocked.Add(ref _messages, messages.Count);
        if (Volatile.Read(ref _moved) is { } moved && moved.Contains(queue))
        {
            lock (_handoverGate)
            {
                if (clientId == _leaver)
                {
                    _lastByLeaverAt = now;
                }
                else if (_firstResumedAt == 0)
                {
                    _firstResumedAt = now;
                }
            }
        }
        return ConsumeOrderlyStatus.Success;
    }

    private void CheckOrder(MessageExt message)
    {
        var span = message.Body.AsSpan(0, Math.Min(message.Body.Length, 64));
        var bar = span.IndexOf((byte)'|');
        var colon = bar > 0 ? span[..bar].LastIndexOf((byte)':') : -1;
        if (colon <= 0 || !long.TryParse(span[(colon + 1)..bar], out var seq))
        {
            return; // not written by bench produce --orderly
        }
        var key = Encoding.ASCII.GetString(span[..colon]);
        var previous = _lastSeq.TryGetValue(key, out var last) ? last : -1;
        if (seq <= previous)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }
        if (previous >= 0 && seq > previous + 1)
        {
            Interlocked.Increment(ref _gaps);
        }
        _lastSeq[key] = seq;
    }

    private async Task LeaveAsync(PushConsumer leaver, TimeSpan after, CancellationToken cancellationToken)
    {
        await Task.Delay(after, cancellationToken);
        lock (_handoverGate)
        {
            _leaver = leaver.ClientId;
            Volatile.Write(ref _moved, leaver.Assignment.ToHashSet());
            _leaveRequestedAt = Stopwatch.GetTimestamp();
        }
        await leaver.StopAsync(cancellationToken);
        _leftAt = Stopwatch.GetTimestamp();
        Output.Note($"instance {leaver.ClientId} left gracefully, handing over {_moved!.Count} queue(s)");
    }

    private async Task WaitUntilDoneAsync(long started, TimeSpan longest, long stored, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetElapsedTime(started) < longest)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            var last = Volatile.Read(ref _lastAt);
            if ((stored > 0 && Interlocked.Read(ref _messages) >= stored) || (last != 0 && Stopwatch.GetElapsedTime(last) > TimeSpan.FromSeconds(3)))
            {
                return;
            }
        }
    }

    private BenchReport Report(Settings settings, long started)
    {
        var total = Interlocked.Read(ref _messages);
        var active = total > 0 ? Stopwatch.GetElapsedTime(_firstAt, _lastAt).TotalSeconds : 0;
        var seconds = active >= 1 ? active : Stopwatch.GetElapsedTime(started).TotalSeconds;
        var report = new BenchReport("consume-orderly")
            .Text("topic", "topic", settings.Topic)
            .Text("group", "group", settings.Group)
            .Count("instances", "instances", settings.Instances)
            .Count("messages", "messages", total)
            .Number("seconds", "consuming for", seconds, "0.00", "s")
            .Number("messagesPerSecond", "throughput", total / seconds, "N0", "msg/s")
            .Number("megabytesPerSecond", "throughput", Interlocked.Read(ref _bytes) / seconds / (1024 * 1024), "0.00", "MB/s")
            .Count("keys", "keys seen", _lastSeq.Count)
            .Count("duplicates", "duplicates (a key's seq seen again)", Interlocked.Read(ref _duplicates))
            .Count("gaps", "gaps (a key's seq skipped)", Interlocked.Read(ref _gaps));
        if (_moved is not null)
        {
            var resumed = _firstResumedAt;
            report.Count("movedQueues", "queues handed over", _moved.Count)
                .Number("leaveMs", "graceful leave took (stop → unregistered)", Ms(_leaveRequestedAt, _leftAt), "0", "ms")
                .Number("handoverMs", "moved queue resumed after the leaver left", resumed > 0 ? Ms(_leftAt, resumed) : -1, "0", "ms")
                .Number("stallMs", "moved queue stood still (leaver's last → next owner's first)", resumed > 0 && _lastByLeaverAt > 0 ? Ms(_lastByLeaverAt, resumed) : -1, "0", "ms");
        }
        return report;
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
