using System.Collections;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.Validation;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// <c>orleansmq bench e2e</c>: end-to-end latency at a fixed rate. A paced producer stamps each message with
/// the Stopwatch time of its send; a push consumer in the same process records arrival minus that stamp, so
/// the latency covers send, group commit, long-poll wake-up and delivery, with no clock skew.
/// </summary>
internal sealed class EndToEndBench
{
    private const string RunProperty = "bench.run";
    private const string SequenceProperty = "bench.seq";
    private const string SentProperty = "bench.sent";
    private const string DefaultTopic = "BenchE2E";

    // Bounds the sends in flight if the broker falls behind the rate; the achieved rate then shows it.
    private const int MaxInFlight = 10_000;
    private static readonly TimeSpan ArrivalGrace = TimeSpan.FromSeconds(10);

    private readonly Settings _settings;
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly LatencyHistogram _endToEnd = new();
    private readonly LatencyHistogram _send = new();
    private readonly BitArray _received;
    private readonly byte[] _body;
    private long _measureStart;
    private long _measuredSent;
    private long _measuredReceived;
    private long _duplicates;
    private long _sendErrors;
    private long _sentTotal;
    private long _receivedTotal;
    private Exception? _firstError;

    private EndToEndBench(Settings settings)
    {
        _settings = settings;
        _body = BenchCommands.Body(settings.Size);
        var planned = settings.Rate * (settings.Warmup + settings.Duration).TotalSeconds;
        _received = new BitArray((int)Math.Min(int.MaxValue - 1, planned + settings.Rate + 1));
    }

    public static Command Create()
    {
        var topic = BenchCommands.TopicOption(DefaultTopic);
        var queues = BenchCommands.QueuesOption();
        var rate = new Option<int>("--rate")
        {
            Description = "Messages per second the producer sends (paced, asynchronous)",
            DefaultValueFactory = _ => 2000,
        };
        var duration = Durations.Option("--duration", TimeSpan.FromSeconds(20), "How long to measure (after the warm-up)");
        var size = BenchCommands.SizeOption();
        var warmup = Durations.Option("--warmup", TimeSpan.FromSeconds(3), "How long to send before measuring (not counted)");
        var json = BenchCommands.JsonOption();

        var command = new Command("e2e",
            """
            Measure end-to-end latency (send to push-consumer delivery) at a fixed rate: p50/p90/p99/p99.9/max and the achieved rate.
            Example: orleansmq bench e2e --rate 2000 --duration 20s
            """)
        {
            topic, queues, rate, duration, size, warmup, json,
        };
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                Topic: parse.GetRequiredValue(topic),
                Queues: BenchCommands.AtLeast(parse.GetValue(queues), 1, "--queues"),
                Rate: BenchCommands.AtLeast(parse.GetValue(rate), 1, "--rate"),
                Duration: BenchCommands.Positive(parse.GetValue(duration).Value, "--duration"),
                Size: BenchCommands.AtLeast(parse.GetValue(size), 1, "--size"),
                Warmup: parse.GetValue(warmup).Value);
            Names.CheckTopic(settings.Topic);
            var bench = new EndToEndBench(settings);
            BenchCommands.CheckBody(bench._body);
            await using var connection = await CommandActions.ConnectAsync(parse, cancellationToken);
            await BenchCommands.EnsureTopicAsync(connection, settings.Topic, settings.Queues, cancellationToken);
            await bench.RunAsync(connection, cancellationToken);
            bench.Report().Print(parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private async Task RunAsync(OrleansMQConnection connection, CancellationToken cancellationToken)
    {
        var group = $"bench-e2e-{_run}";
        var consumer = connection.CreatePushConsumer(new PushConsumerOptions
        {
            ConsumerGroup = group,
            // Only this run's messages matter; older ones on the topic are skipped by starting at the end.
            ConsumeFromWhere = ConsumeFromWhere.LastOffset,
        });
        consumer.Subscribe(_settings.Topic, "*");
        consumer.RegisterMessageListener((messages, context, ct) =>
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var message in messages)
            {
                OnDelivered(message, now);
            }
            return Task.FromResult(ConsumeResult.Success);
        });
        await consumer.StartAsync(cancellationToken);
        Output.Note($"bench e2e: topic {_settings.Topic}, {_settings.Rate:N0} msg/s, {_settings.Size} B bodies, " +
                    $"warm-up {Durations.Format(_settings.Warmup)}, measure {Durations.Format(_settings.Duration)}; group {group}");
        try
        {
            await using var producer = connection.CreateProducer();
            var start = Stopwatch.GetTimestamp();
            long lastSent = 0, lastSentAt = start, lastReceived = 0, lastReceivedAt = start;
            await using (BenchProgress.Start(elapsed =>
                $"{(elapsed < _settings.Warmup ? $"warm-up {elapsed.TotalSeconds:0}s" : $"measure {(elapsed - _settings.Warmup).TotalSeconds:0}s")}: " +
                $"sent {BenchProgress.Rate(Interlocked.Read(ref _sentTotal), ref lastSent, ref lastSentAt)} msg/s, " +
                $"received {BenchProgress.Rate(Interlocked.Read(ref _receivedTotal), ref lastReceived, ref lastReceivedAt)} msg/s"))
            {
                await ProduceAtRateAsync(producer, start, cancellationToken);
                await WaitForArrivalsAsync(cancellationToken);
            }
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await consumer.StopAsync(stopTimeout.Token);
        }
    }

    private async Task ProduceAtRateAsync(Producer producer, long start, CancellationToken cancellationToken)
    {
        _measureStart = start + (long)(_settings.Warmup.TotalSeconds * Stopwatch.Frequency);
        var end = _measureStart + (long)(_settings.Duration.TotalSeconds * Stopwatch.Frequency);
        using var inFlight = new SemaphoreSlim(MaxInFlight);
        var sequence = 0L;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                break;
            }
            // Every message due by now is sent; the schedule does not slip when one tick came late.
            var due = (long)(Stopwatch.GetElapsedTime(start, now).TotalSeconds * _settings.Rate) + 1;
            while (sequence < due)
            {
                await inFlight.WaitAsync(cancellationToken);
                _ = SendAsync(producer, sequence++, inFlight);
            }
            await Task.Delay(1, cancellationToken);
        }
        for (var i = 0; i < MaxInFlight; i++)
        {
            await inFlight.WaitAsync(cancellationToken);
        }
    }

    private async Task SendAsync(Producer producer, long sequence, SemaphoreSlim inFlight)
    {
        var sentAt = Stopwatch.GetTimestamp();
        var message = new Message(_settings.Topic, _body);
        message.Properties[RunProperty] = _run;
        message.Properties[SequenceProperty] = sequence.ToString(CultureInfo.InvariantCulture);
        message.Properties[SentProperty] = sentAt.ToString(CultureInfo.InvariantCulture);
        try
        {
            await producer.SendAsync(message, CancellationToken.None);
            var ackedAt = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _sentTotal);
            if (sentAt >= _measureStart)
            {
                Interlocked.Increment(ref _measuredSent);
                _send.Record(sentAt, ackedAt);
            }
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _sendErrors);
            Interlocked.CompareExchange(ref _firstError, e, null);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private void OnDelivered(MessageExt message, long now)
    {
        if (message.GetProperty(RunProperty) != _run
            || !long.TryParse(message.GetProperty(SequenceProperty), CultureInfo.InvariantCulture, out var sequence)
            || !long.TryParse(message.GetProperty(SentProperty), CultureInfo.InvariantCulture, out var sentAt))
        {
            return;
        }
        lock (_received)
        {
            if (sequence < _received.Length)
            {
                if (_received[(int)sequence])
                {
                    _duplicates++;
                    return;
                }
                _received[(int)sequence] = true;
            }
        }
        Interlocked.Increment(ref _receivedTotal);
        if (sentAt >= _measureStart)
        {
            Interlocked.Increment(ref _measuredReceived);
            _endToEnd.Record(sentAt, now);
        }
    }

    private async Task WaitForArrivalsAsync(CancellationToken cancellationToken)
    {
        var waiting = Stopwatch.StartNew();
        // Warm-up messages sent before the new group positioned itself may never arrive; only measured ones are awaited.
        while (Interlocked.Read(ref _measuredReceived) < Interlocked.Read(ref _measuredSent) && waiting.Elapsed < ArrivalGrace)
        {
            await Task.Delay(50, cancellationToken);
        }
    }

    private BenchReport Report()
    {
        var seconds = _settings.Duration.TotalSeconds;
        return new BenchReport("e2e")
            .Text("topic", "topic", _settings.Topic)
            .Count("targetRate", "target rate (msg/s)", _settings.Rate)
            .Count("size", "body size (bytes)", _settings.Size)
            .Number("durationSeconds", "measured for", seconds, "0.0", "s")
            .Count("sent", "sent (measured)", _measuredSent)
            .Number("achievedRate", "achieved send rate", _measuredSent / seconds, "N0", "msg/s")
            .Count("received", "received (measured)", _measuredReceived)
            .Count("missing", "not received (measured)", Math.Max(0, _measuredSent - _measuredReceived))
            .Count("duplicates", "duplicates", _duplicates)
            .Latency("e2e", "end-to-end", _endToEnd, withP999: true)
            .Latency("send", "send ack", _send)
            .Count("sendErrors", "send errors", _sendErrors)
            .FirstError(_firstError);
    }

    private sealed record Settings(string Topic, int Queues, int Rate, TimeSpan Duration, int Size, TimeSpan Warmup);
}
