using System.CommandLine;
using System.Diagnostics;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// <c>orleansmq bench produce</c>: send throughput and latency (RocketMQ's producer.sh). Sync mode measures
/// one-at-a-time senders; the default pipelined mode keeps a window of sends in flight per thread, which is
/// what lets the producer coalesce concurrent sends to one queue into one grain call.
/// </summary>
internal sealed class ProduceBench
{
    private readonly Settings _settings;
    private readonly LatencyHistogram _latency = new();
    private readonly byte[] _body;
    private long _measureStart;
    private long _measureEnd;
    private long _sentMessages;
    private long _measuredMessages;
    private long _errors;
    private Exception? _firstError;
    private MQException? _fatal;

    private ProduceBench(Settings settings)
    {
        _settings = settings;
        _body = BenchCommands.Body(settings.Size);
    }

    public static Command Create()
    {
        var topic = BenchCommands.TopicOption();
        var queues = BenchCommands.QueuesOption();
        var threads = new Option<int>("--threads")
        {
            Description = "Concurrent senders (with --sync, e.g. 64 one-at-a-time senders)",
            DefaultValueFactory = _ => 4,
        };
        var size = BenchCommands.SizeOption();
        var duration = Durations.Option("--duration", TimeSpan.FromSeconds(10), "How long to measure (after the warm-up)");
        var warmup = Durations.Option("--warmup", TimeSpan.FromSeconds(3), "How long to send before measuring (not counted)");
        var window = new Option<int>("--window")
        {
            Description = "Sends each thread keeps in flight (pipelined mode)",
            DefaultValueFactory = _ => 64,
        };
        var sync = new Option<bool>("--sync") { Description = "Each thread sends one message (or batch) at a time and awaits it" };
        var batch = new Option<int>("--batch")
        {
            Description = "Send explicit batches of this many messages (1 = single sends)",
            DefaultValueFactory = _ => 1,
        };
        var noCoalesce = new Option<bool>("--no-coalesce")
        {
            Description = "Make every send its own grain call (up to 64 in flight per queue) instead of letting the producer coalesce " +
                          "concurrent sends: measures pipelined single-message calls",
        };
        var orderly = new Option<bool>("--orderly")
        {
            Description = "Ordered sends: every message carries a message group (key-0 … key-N-1, see --keys) and each key's messages are sent one after " +
                          "the other, so they are stored in send order; the body starts with 'key:seq' for 'bench consume --orderly' to check",
        };
        var keys = new Option<int>("--keys")
        {
            Description = "With --orderly: how many message groups (order ids) to spread the messages over",
            DefaultValueFactory = _ => 1000,
        };
        var json = BenchCommands.JsonOption();

        var command = new Command("produce",
            """
            Measure send throughput and latency: messages, msg/s, MB/s and send latency p50/p90/p99/max. Creates the topic if missing.
            Examples: orleansmq bench produce --threads 4 --window 64      (pipelined)
                      orleansmq bench produce --sync --threads 64          (64 one-at-a-time senders)
                      orleansmq bench produce --batch 32 --threads 2       (explicit batches)
                      orleansmq bench produce --no-coalesce                (one grain call per message)
                      orleansmq bench produce --orderly --keys 1000        (ordered by message group)
            """)
        {
            topic, queues, threads, size, duration, warmup, window, sync, batch, noCoalesce, orderly, keys, json,
        };
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                Topic: parse.GetRequiredValue(topic),
                Queues: BenchCommands.AtLeast(parse.GetValue(queues), 1, "--queues"),
                Threads: BenchCommands.AtLeast(parse.GetValue(threads), 1, "--threads"),
                Size: BenchCommands.AtLeast(parse.GetValue(size), 1, "--size"),
                Duration: BenchCommands.Positive(parse.GetValue(duration).Value, "--duration"),
                Warmup: parse.GetValue(warmup).Value,
                Window: BenchCommands.AtLeast(parse.GetValue(window), 1, "--window"),
                Sync: parse.GetValue(sync),
                Batch: BenchCommands.AtLeast(parse.GetValue(batch), 1, "--batch"),
                Keys: parse.GetValue(orderly) ? BenchCommands.AtLeast(parse.GetValue(keys), 1, "--keys") : 0);
            if (settings.Keys > 0 && settings.Batch > 1)
            {
                throw CliErrors.BadArgument("--orderly sends single messages; leave out --batch");
            }
            Names.CheckTopic(settings.Topic);
            var bench = new ProduceBench(settings);
            BenchCommands.CheckBody(bench._body);
            await using var connection = await CommandActions.ConnectAsync(parse, cancellationToken);
            await BenchCommands.EnsureTopicAsync(connection, settings.Topic, settings.Queues, cancellationToken);
            await using var producer = connection.CreateProducer(parse.GetValue(noCoalesce)
                ? new ProducerOptions { MaxMessagesPerCall = 1, MaxCallsInFlightPerQueue = 64 }
                : null);
            await bench.RunAsync(producer, cancellationToken);
            bench.Report().Print(parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private async Task RunAsync(Producer producer, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        _measureStart = start + (long)(_settings.Warmup.TotalSeconds * Stopwatch.Frequency);
        _measureEnd = _measureStart + (long)(_settings.Duration.TotalSeconds * Stopwatch.Frequency);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(_settings.Warmup + _settings.Duration);
        Output.Note($"bench produce: topic {_settings.Topic}, {_settings.Threads} thread(s), {Mode()}, {_settings.Size} B bodies, " +
                    $"warm-up {Durations.Format(_settings.Warmup)}, measure {Durations.Format(_settings.Duration)}");

        long lastCount = 0, lastTimestamp = start;
        await using (BenchProgress.Start(elapsed =>
            $"{(elapsed < _settings.Warmup ? $"warm-up {elapsed.TotalSeconds:0}s" : $"measure {(elapsed - _settings.Warmup).TotalSeconds:0}s")}: " +
            $"{BenchProgress.Rate(Interlocked.Read(ref _sentMessages), ref lastCount, ref lastTimestamp)} msg/s, errors {Interlocked.Read(ref _errors)}"))
        {
            var workers = _settings.Keys > 0
                ? OrderedSenders(producer, stop)
                : Enumerable.Range(0, _settings.Threads)
                    .Select(_ => Task.Run(() => _settings.Sync ? SyncSenderAsync(producer, stop) : PipelinedSenderAsync(producer, stop), CancellationToken.None));
            await Task.WhenAll(workers);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (_fatal is not null)
        {
            throw _fatal;
        }
    }

    private async Task SyncSenderAsync(Producer producer, CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await SendOnceAsync(producer, stop);
        }
    }

    private async Task PipelinedSenderAsync(Producer producer, CancellationTokenSource stop)
    {
        using var window = new SemaphoreSlim(_settings.Window);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await window.WaitAsync(stop.Token);
                _ = SendAndReleaseAsync();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        // Drain: wait until every in-flight send has completed (or failed).
        for (var i = 0; i < _settings.Window; i++)
        {
            await window.WaitAsync(CancellationToken.None);
        }

        async Task SendAndReleaseAsync()
        {
            try
            {
                await SendOnceAsync(producer, stop);
            }
            finally
            {
                window.Release();
            }
        }
    }

    /// <summary>
    /// Ordered mode: threads × window senders (one with --sync per thread); sender s owns the keys k with
    /// k mod senders = s and sends their messages one at a time, so each key's messages are stored in send order.
    /// </summary>
    private IEnumerable<Task> OrderedSenders(Producer producer, CancellationTokenSource stop)
    {
        var senders = Math.Min(_settings.Keys, _settings.Threads * (_settings.Sync ? 1 : _settings.Window));
        var sequences = new long[_settings.Keys];
        var run = Guid.NewGuid().ToString("N")[..8];
        return Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            for (var k = s; !stop.IsCancellationRequested; k += senders)
            {
                if (k >= _settings.Keys) k = s;
                var key = $"key-{k}";
                var header = System.Text.Encoding.ASCII.GetBytes($"{run}/{key}:{sequences[k]++}|");
                var body = new byte[Math.Max(_settings.Size, header.Length)];
                header.CopyTo(body, 0);
                _body.AsSpan(0, body.Length - header.Length).CopyTo(body.AsSpan(header.Length));
                await SendOnceAsync(producer, stop, new Message(_settings.Topic, body) { MessageGroup = key });
            }
        }, CancellationToken.None));
    }

    private async Task SendOnceAsync(Producer producer, CancellationTokenSource stop, Message? ordered = null)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            // In-flight sends are not cancelled at the end: their latency still counts if they finish in time.
            if (ordered is not null)
            {
                await producer.SendAsync(ordered, CancellationToken.None);
            }
            else if (_settings.Batch == 1)
            {
                await producer.SendAsync(new Message(_settings.Topic, _body), CancellationToken.None);
            }
            else
            {
                var batch = new Message[_settings.Batch];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = new Message(_settings.Topic, _body);
                }
                await producer.SendAsync(batch, CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _errors);
            Interlocked.CompareExchange(ref _firstError, e, null);
            if (e is MQException { IsRetryable: false } mq)
            {
                // A refusal (bad topic, body too large, …) repeats on every send: stop at once and report it.
                Interlocked.CompareExchange(ref _fatal, mq, null);
                await stop.CancelAsync();
            }
            return;
        }
        var ended = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _sentMessages, _settings.Batch);
        if (started >= _measureStart && ended <= _measureEnd)
        {
            _latency.Record(started, ended);
            Interlocked.Add(ref _measuredMessages, _settings.Batch);
        }
    }

    private string Mode() =>
        (_settings.Sync ? "sync" : $"pipelined window {_settings.Window}") + (_settings.Batch > 1 ? $", batches of {_settings.Batch}" : "")
        + (_settings.Keys > 0 ? $", orderly over {_settings.Keys} keys ({Math.Min(_settings.Keys, _settings.Threads * (_settings.Sync ? 1 : _settings.Window))} senders, one send per key at a time)" : "");

    private BenchReport Report()
    {
        var seconds = _settings.Duration.TotalSeconds;
        return new BenchReport("produce")
            .Text("topic", "topic", _settings.Topic)
            .Text("mode", "mode", Mode())
            .Count("threads", "threads", _settings.Threads)
            .Count("size", "body size (bytes)", _settings.Size)
            .Number("durationSeconds", "measured for", seconds, "0.0", "s")
            .Count("messages", "messages", _measuredMessages)
            .Number("messagesPerSecond", "throughput", _measuredMessages / seconds, "N0", "msg/s")
            .Number("megabytesPerSecond", "throughput", _measuredMessages * (double)_settings.Size / seconds / (1024 * 1024), "0.00", "MB/s")
            .Latency("sendLatency", _settings.Batch > 1 ? "batch send latency" : "send latency", _latency)
            .Count("errors", "errors", _errors)
            .FirstError(_firstError);
    }

    private sealed record Settings(string Topic, int Queues, int Threads, int Size, TimeSpan Duration, TimeSpan Warmup, int Window, bool Sync, int Batch, int Keys);
}
