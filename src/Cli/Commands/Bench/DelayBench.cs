using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// <c>orleansmq bench delay</c>: schedule timer (or delay-level) messages at a steady rate and measure how late they
/// are delivered. Each message carries its due time; a push consumer in the same process records "stored on the
/// real topic − due" (the broker's lateness) and "received − due" (what a consumer sees), on one clock.
/// </summary>
internal sealed class DelayBench
{
    private const string RunProperty = "bench.run";
    private const string SequenceProperty = "bench.seq";
    private const string DefaultTopic = "BenchDelay";
    private const int MaxInFlight = 10_000;
    private static readonly TimeSpan ArrivalGrace = TimeSpan.FromSeconds(15);

    private readonly Settings _settings;
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly LatencyHistogram _stored = new();
    private readonly LatencyHistogram _received = new();
    private readonly LatencyHistogram _send = new();
    private readonly long[] _dueTicks;
    private readonly bool[] _seen;
    private readonly byte[] _body;
    private long _sent;
    private long _receivedCount;
    private long _early;
    private long _duplicates;
    private long _sendErrors;
    private Exception? _firstError;

    private DelayBench(Settings settings)
    {
        _settings = settings;
        _body = BenchCommands.Body(settings.Size);
        var planned = (int)Math.Min(50_000_000, settings.Rate * settings.Duration.TotalSeconds + settings.Rate + 1);
        _dueTicks = new long[planned];
        _seen = new bool[planned];
    }

    public static Command Create()
    {
        var topic = BenchCommands.TopicOption(DefaultTopic);
        var queues = BenchCommands.QueuesOption();
        var rate = new Option<int>("--rate") { Description = "Messages scheduled per second (paced, asynchronous)", DefaultValueFactory = _ => 1000 };
        var delay = Durations.Option("--delay", TimeSpan.FromSeconds(10), "Delay of each message (a timer message: DeliverAfter)");
        var level = new Option<int>("--level") { Description = "Use this delay level instead of --delay (its delay comes from the cluster's table)" };
        var duration = Durations.Option("--duration", TimeSpan.FromSeconds(20), "How long to schedule messages");
        var size = BenchCommands.SizeOption();
        var json = BenchCommands.JsonOption();
        var command = new Command("delay",
            """
            Schedule messages at a steady rate and report their lateness (delivered - due): p50/p90/p99/max.
            Example: orleansmq bench delay --rate 5000 --delay 10s --duration 20s
            """)
        {
            topic, queues, rate, delay, level, duration, size, json,
        };
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                Topic: parse.GetRequiredValue(topic),
                Queues: BenchCommands.AtLeast(parse.GetValue(queues), 1, "--queues"),
                Rate: BenchCommands.AtLeast(parse.GetValue(rate), 1, "--rate"),
                Delay: parse.GetValue(delay).Value,
                Level: parse.GetValue(level),
                Duration: BenchCommands.Positive(parse.GetValue(duration).Value, "--duration"),
                Size: BenchCommands.AtLeast(parse.GetValue(size), 1, "--size"));
            Names.CheckTopic(settings.Topic);
            if (settings.Level < 0) throw CliErrors.BadArgument($"--level is {settings.Level}; it must be 1 or more");
            var bench = new DelayBench(settings);
            BenchCommands.CheckBody(bench._body);
            await using var connection = await CommandActions.ConnectAsync(parse, cancellationToken);
            await BenchCommands.EnsureTopicAsync(connection, settings.Topic, settings.Queues, cancellationToken);
            var delayOf = settings.Level > 0 ? (await connection.CreateAdminClient().GetDelayTableAsync(cancellationToken)).DelayOf(settings.Level) : settings.Delay;
            await bench.RunAsync(connection, delayOf, cancellationToken);
            bench.Report(delayOf).Print(parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private async Task RunAsync(OrleansMQConnection connection, TimeSpan delay, CancellationToken cancellationToken)
    {
        var group = $"bench-delay-{_run}";
        var consumer = connection.CreatePushConsumer(new PushConsumerOptions { ConsumerGroup = group, ConsumeFromWhere = ConsumeFromWhere.LastOffset });
        consumer.Subscribe(_settings.Topic, "*");
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var message in messages) OnDelivered(message, now);
            return Task.FromResult(ConsumeResult.Success);
        });
        await consumer.StartAsync(cancellationToken);
        var what = _settings.Level > 0 ? $"delay level {_settings.Level} ({Durations.Format(delay)})" : $"timer messages due {Durations.Format(delay)} after sending";
        Output.Note($"bench delay: topic {_settings.Topic}, {_settings.Rate:N0} msg/s for {Durations.Format(_settings.Duration)}, {what}; group {group}");
        try
        {
            await using var producer = connection.CreateProducer();
            var start = Stopwatch.GetTimestamp();
            long lastSent = 0, lastSentAt = start, lastReceived = 0, lastReceivedAt = start;
            await using (BenchProgress.Start(elapsed =>
                $"{elapsed.TotalSeconds:0}s: scheduled {BenchProgress.Rate(Interlocked.Read(ref _sent), ref lastSent, ref lastSentAt)} msg/s, " +
                $"delivered {BenchProgress.Rate(Interlocked.Read(ref _receivedCount), ref lastReceived, ref lastReceivedAt)} msg/s"))
            {
                await ScheduleAtRateAsync(producer, delay, start, cancellationToken);
                var deadline = DateTimeOffset.UtcNow + delay + ArrivalGrace;
                while (Interlocked.Read(ref _receivedCount) < Interlocked.Read(ref _sent) && DateTimeOffset.UtcNow < deadline)
                {
                    await Task.Delay(50, cancellationToken);
                }
            }
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await consumer.StopAsync(stopTimeout.Token);
        }
    }

    private async Task ScheduleAtRateAsync(Producer producer, TimeSpan delay, long start, CancellationToken cancellationToken)
    {
        var end = start + (long)(_settings.Duration.TotalSeconds * Stopwatch.Frequency);
        using var inFlight = new SemaphoreSlim(MaxInFlight);
        var sequence = 0;
        while (Stopwatch.GetTimestamp() < end && sequence < _dueTicks.Length)
        {
            var due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * _settings.Rate) + 1;
            while (sequence < due && sequence < _dueTicks.Length)
            {
                await inFlight.WaitAsync(cancellationToken);
                _ = SendAsync(producer, sequence++, delay, inFlight);
            }
            await Task.Delay(1, cancellationToken);
        }
        for (var i = 0; i < MaxInFlight; i++) await inFlight.WaitAsync(cancellationToken);
    }

    private async Task SendAsync(Producer producer, int sequence, TimeSpan delay, SemaphoreSlim inFlight)
    {
        var message = new Message(_settings.Topic, _body);
        message.Properties[RunProperty] = _run;
        message.Properties[SequenceProperty] = sequence.ToString(CultureInfo.InvariantCulture);
        if (_settings.Level > 0)
        {
            message.DelayLevel = _settings.Level;
        }
        else
        {
            var dueAt = DateTimeOffset.UtcNow + delay;
            message.DeliverAt = dueAt;
            // The producer rounds the due time up to the millisecond; measure against what the broker was asked for.
            Volatile.Write(ref _dueTicks[sequence], CeilingToMillisecond(dueAt).UtcTicks);
        }
        var sentAt = Stopwatch.GetTimestamp();
        try
        {
            var result = await producer.SendAsync(message, CancellationToken.None);
            _send.Record(sentAt, Stopwatch.GetTimestamp());
            if (_settings.Level > 0)
            {
                // A level's due time is the schedule's store time plus the level's delay.
                Volatile.Write(ref _dueTicks[sequence], (result.StoredAt + delay).UtcTicks);
            }
            Interlocked.Increment(ref _sent);
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

    private void OnDelivered(MessageExt message, DateTimeOffset now)
    {
        if (message.GetProperty(RunProperty) != _run
            || !int.TryParse(message.GetProperty(SequenceProperty), CultureInfo.InvariantCulture, out var sequence)
            || sequence < 0 || sequence >= _dueTicks.Length)
        {
            return;
        }
        lock (_seen)
        {
            if (_seen[sequence])
            {
                _duplicates++;
                return;
            }
            _seen[sequence] = true;
        }
        var dueTicks = Volatile.Read(ref _dueTicks[sequence]);
        if (dueTicks == 0) return;
        var due = new DateTimeOffset(dueTicks, TimeSpan.Zero);
        if (message.StoredAt < due.AddTicks(-(due.Ticks % 10))) Interlocked.Increment(ref _early);
        _stored.RecordMicroseconds((long)Math.Max(1, (message.StoredAt - due).TotalMicroseconds));
        _received.RecordMicroseconds((long)Math.Max(1, (now - due).TotalMicroseconds));
        Interlocked.Increment(ref _receivedCount);
    }

    private static DateTimeOffset CeilingToMillisecond(DateTimeOffset at)
    {
        var ms = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
        return ms < at ? ms.AddMilliseconds(1) : ms;
    }

    private BenchReport Report(TimeSpan delay) => new BenchReport("delay")
        .Text("topic", "topic", _settings.Topic)
        .Text("schedule", "schedule", _settings.Level > 0 ? $"delay level {_settings.Level}" : "timer (DeliverAt)")
        .Number("delayMs", "delay", delay.TotalMilliseconds, "0", "ms")
        .Count("targetRate", "target rate (msg/s)", _settings.Rate)
        .Number("achievedRate", "achieved schedule rate", Interlocked.Read(ref _sent) / _settings.Duration.TotalSeconds, "N0", "msg/s")
        .Count("scheduled", "scheduled", Interlocked.Read(ref _sent))
        .Count("delivered", "delivered", Interlocked.Read(ref _receivedCount))
        .Count("missing", "not delivered", Math.Max(0, Interlocked.Read(ref _sent) - Interlocked.Read(ref _receivedCount)))
        .Count("early", "delivered before due", Interlocked.Read(ref _early))
        .Count("duplicates", "duplicates", _duplicates)
        .Latency("lateness", "lateness (stored - due)", _stored)
        .Latency("received", "lateness (received - due)", _received)
        .Latency("send", "send ack", _send)
        .Count("sendErrors", "send errors", _sendErrors)
        .FirstError(_firstError);

    private sealed record Settings(string Topic, int Queues, int Rate, TimeSpan Delay, int Level, TimeSpan Duration, int Size);
}
