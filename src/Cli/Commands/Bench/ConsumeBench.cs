using System.CommandLine;
using System.Diagnostics;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// <c>orleansmq bench consume</c>: push-consumer throughput (RocketMQ's consumer.sh). Reads a topic filled
/// earlier by <c>bench produce</c> from its first offset, with a fresh group unless one is given, and stops
/// when the duration is over or the backlog is drained.
/// </summary>
internal static class ConsumeBench
{
    // Nothing new for this long after messages flowed means the backlog is drained.
    private static readonly TimeSpan DrainedAfter = TimeSpan.FromSeconds(3);

    public static Command Create()
    {
        var topic = BenchCommands.TopicOption();
        var group = new Option<string>("--group") { Description = "Consumer group (default: a new group bench-consume-<random>, so it reads everything)" };
        var duration = Durations.Option("--duration", TimeSpan.FromSeconds(30), "Longest time to consume");
        var from = new Option<string>("--from")
        {
            Description = "Where a group with no committed offset starts: first or last",
            DefaultValueFactory = _ => "first",
        };
        from.AcceptOnlyFromAmong("first", "last");
        var pullBatch = new Option<int>("--pull-batch")
        {
            Description = "Messages per pull (the consumer's PullBatchSize; RocketMQ's default is 32)",
            DefaultValueFactory = _ => 32,
        };
        var consumeBatch = new Option<int>("--consume-batch")
        {
            Description = "Messages per listener call (ConsumeMessageBatchMaxSize)",
            DefaultValueFactory = _ => 1,
        };
        var orderly = new Option<bool>("--orderly")
        {
            Description = "Consume with an orderly listener and check each key's order (topic filled by 'bench produce --orderly')",
        };
        var instances = new Option<int>("--instances")
        {
            Description = "With --orderly: consumer instances of the group to run in this process",
            DefaultValueFactory = _ => 1,
        };
        var leaveAfter = Durations.Option("--leave-after", TimeSpan.Zero,
            "With --orderly and --instances 2 or more: stop the first instance gracefully after this long (e.g. 5s) and report the handover time (0: nobody leaves)");
        var json = BenchCommands.JsonOption();

        var command = new Command("consume",
            """
            Measure push-consumer throughput (msg/s, MB/s) on a topic filled earlier by 'bench produce'.
            Example: orleansmq bench produce --duration 10s && orleansmq bench consume
                     orleansmq bench produce --orderly --keys 1000 && orleansmq bench consume --orderly --instances 2 --leave-after 5s
            """)
        {
            topic, group, duration, from, pullBatch, consumeBatch, orderly, instances, leaveAfter, json,
        };
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            var topicName = parse.GetRequiredValue(topic);
            var groupName = parse.GetValue(group) ?? $"bench-consume-{Guid.NewGuid().ToString("N")[..8]}";
            var longest = BenchCommands.Positive(parse.GetValue(duration).Value, "--duration");
            var fromFirst = parse.GetValue(from) != "last";
            Names.CheckTopic(topicName);
            Names.CheckGroup(groupName);
            if (parse.GetValue(orderly))
            {
                var leave = parse.GetValue(leaveAfter).Value is { Ticks: > 0 } after ? after : (TimeSpan?)null;
                var count = BenchCommands.AtLeast(parse.GetValue(instances), 1, "--instances");
                if (leave is not null && count < 2)
                {
                    throw CliErrors.BadArgument("--leave-after needs --instances 2 or more: someone has to take the queues over");
                }
                await using var orderlyConnection = await CommandActions.ConnectAsync(parse, cancellationToken);
                return await OrderlyConsumeBench.RunAsync(orderlyConnection, new OrderlyConsumeBench.Settings(
                    topicName, groupName, longest, fromFirst, BenchCommands.AtLeast(parse.GetValue(pullBatch), 1, "--pull-batch"), count, leave, parse.GetValue(json)),
                    cancellationToken);
            }
            await using var connection = await CommandActions.ConnectAsync(parse, cancellationToken);

            var status = await connection.CreateAdminClient().GetTopicStatusAsync(topicName, cancellationToken);
            var stored = status.Sum(q => q.MaxOffset - q.MinOffset);
            Output.Note($"bench consume: topic {topicName} holds {stored:N0} message(s) in {status.Count} queue(s); group {groupName}, from {(fromFirst ? "first" : "last")}");

            long messages = 0, bytes = 0, firstAt = 0, lastAt = 0;
            var consumer = connection.CreatePushConsumer(new PushConsumerOptions
            {
                ConsumerGroup = groupName,
                ConsumeFromWhere = fromFirst ? ConsumeFromWhere.FirstOffset : ConsumeFromWhere.LastOffset,
                PullBatchSize = BenchCommands.AtLeast(parse.GetValue(pullBatch), 1, "--pull-batch"),
                ConsumeMessageBatchMaxSize = BenchCommands.AtLeast(parse.GetValue(consumeBatch), 1, "--consume-batch"),
            });
            consumer.Subscribe(topicName, "*");
            consumer.RegisterMessageListener((batch, context, ct) =>
            {
                var now = Stopwatch.GetTimestamp();
                Interlocked.CompareExchange(ref firstAt, now, 0);
                Volatile.Write(ref lastAt, now);
                Interlocked.Add(ref messages, batch.Count);
                Interlocked.Add(ref bytes, batch.Sum(m => (long)m.Body.Length));
                return Task.FromResult(ConsumeResult.Success);
            });

            var started = Stopwatch.GetTimestamp();
            long lastCount = 0, lastTimestamp = started;
            await consumer.StartAsync(cancellationToken);
            try
            {
                await using (BenchProgress.Start(elapsed =>
                    $"consume {elapsed.TotalSeconds:0}s: {BenchProgress.Rate(Interlocked.Read(ref messages), ref lastCount, ref lastTimestamp)} msg/s, " +
                    $"{Interlocked.Read(ref messages):N0} in all"))
                {
                    await WaitUntilDoneAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Output.Note("interrupted; reporting what was consumed so far");
            }
            finally
            {
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await consumer.StopAsync(stopTimeout.Token);
            }

            var total = Interlocked.Read(ref messages);
            var activeSeconds = total > 0 ? Stopwatch.GetElapsedTime(firstAt, lastAt).TotalSeconds : 0;
            // A drained backlog read in under a second would give a meaningless rate; fall back to the whole run.
            var seconds = activeSeconds >= 1 ? activeSeconds : Stopwatch.GetElapsedTime(started).TotalSeconds;
            new BenchReport("consume")
                .Text("topic", "topic", topicName)
                .Text("group", "group", groupName)
                .Count("messages", "messages", total)
                .Number("seconds", "consuming for", seconds, "0.00", "s")
                .Number("messagesPerSecond", "throughput", total / seconds, "N0", "msg/s")
                .Number("megabytesPerSecond", "throughput", Interlocked.Read(ref bytes) / seconds / (1024 * 1024), "0.00", "MB/s")
                .Number("firstMessageAfterMs", "first message after", total > 0 ? Stopwatch.GetElapsedTime(started, firstAt).TotalMilliseconds : 0, "0", "ms")
                .Print(parse.GetValue(json));
            return ExitCodes.Ok;

            async Task WaitUntilDoneAsync(CancellationToken ct)
            {
                while (Stopwatch.GetElapsedTime(started) < longest)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
                    var last = Volatile.Read(ref lastAt);
                    var drained = (fromFirst && stored > 0 && Interlocked.Read(ref messages) >= stored)
                                  || (last != 0 && Stopwatch.GetElapsedTime(last) > DrainedAfter);
                    if (drained)
                    {
                        return;
                    }
                }
            }
        });
        return command;
    }
}
