using System.CommandLine;
using System.Diagnostics;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Messages;

/// <summary>
/// <c>orleansmq consume</c>: prints messages with a pull consumer and commits exactly what it printed, so
/// running it again neither repeats nor skips a message.
/// </summary>
internal static class ConsumeCommand
{
    private static readonly TimeSpan FollowPoll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CommitTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to consume" };
        var group = new Option<string>("--group")
        {
            Description = "Consumer group; its committed offsets decide where consumption starts",
            Required = true,
        };
        var count = new Option<int?>("--count", "-n") { Description = "Stop after printing this many messages" };
        var from = new Option<StartPoint>("--from")
        {
            Description = "Where a group with no committed offset starts: first (everything still stored), last (only new messages), " +
                          $"or the first message stored at or after a time (RocketMQ's CONSUME_FROM_TIMESTAMP): {TimeArguments.Help}",
            HelpName = "first|last|time",
            DefaultValueFactory = _ => StartPoint.First,
            CustomParser = StartPoint.Parse,
        };
        var tagExpression = new Option<string>("--tag-expr", "--tag")
        {
            Description = "Tag filter, evaluated on the broker: '*' for all (the default), or tags joined by '||' ('created || paid')",
        };
        var sql = new Option<string>("--sql")
        {
            Description = "SQL92 filter over user properties (and TAGS), evaluated on the broker: \"a > 5 AND region IN ('eu','us')\" (docs/filtering.md); not with --tag-expr",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per message (for jq and scripts)" };
        var idleExit = Durations.Option("--idle-exit", TimeSpan.FromSeconds(5), "Stop when no message arrived for this long");
        var follow = new Option<bool>("--follow")
        {
            Description = "Keep consuming until Ctrl-C (ignores --idle-exit)",
        };
        var orderly = new Option<bool>("--orderly")
        {
            Description = "Consume orderly: one queue at a time in offset order, only while holding its broker lock (messages of one --message-group arrive in send order)",
        };
        var broadcast = new Option<bool>("--broadcast")
        {
            Description = "Broadcasting: this instance gets every message of the topic, with its own offsets kept under --instance",
        };
        var instance = new Option<string>("--instance")
        {
            Description = "Instance name (broadcasting offsets are kept per instance name; default: the host name)",
        };

        var command = new Command("consume",
            """
            Print messages of a topic for a consumer group, then commit exactly the printed ones (per queue: last printed offset + 1).
            Messages the group's consumers sent back for retry, and those 'message resend' or 'dlq resend' delivered to the
            group, come too (read from %RETRY%<group>, printed with their original topic; --json adds "queueTopic").
            Stops after --count messages, after --idle-exit without a message, or with --follow on Ctrl-C (committing first).
            --orderly consumes each queue in order under its broker lock; --broadcast gives this instance every message.
            --tag-expr or --sql filter on the broker; the group's offsets still move past what they filter out.
            Example: orleansmq consume orders --group billing --count 10 --json | jq .body
                     orleansmq consume orders --group shipping --orderly --follow
                     orleansmq consume orders --group eu-big --sql "amount > 100 AND region IN ('eu','us')"
            """)
        {
            topic, group, count, from, tagExpression, sql, json, idleExit, follow, orderly, broadcast, instance,
        };
        MessageSelector Selector(ParseResult parse) =>
            parse.GetValue(sql) is { } condition ? MessageSelector.BySql(condition) : MessageSelector.ByTag(parse.GetValue(tagExpression));
        command.SetBrokerAction(parse =>
        {
            Names.CheckExistingTopic(parse.GetValue(topic));
            Names.CheckGroup(parse.GetValue(group));
            if (parse.GetValue(count) is < 1 and var limit)
            {
                throw CliErrors.BadArgument($"--count is {limit}; it must be at least 1");
            }
            if (parse.GetValue(sql) is not null && parse.GetValue(tagExpression) is not null)
            {
                throw CliErrors.BadArgument("--sql and --tag-expr both given; filter by tags or by SQL92, not both");
            }
            // Checked before connecting: a typo in the filter is reported without a broker, with its column.
            Selector(parse).Compile();
        },
        async (parse, connection, cancellationToken) =>
        {
            var limit = parse.GetValue(count);
            if (parse.GetValue(orderly) || parse.GetValue(broadcast))
            {
                // The push consumer's orderly listener and broadcasting model; it commits what its listener consumed.
                return await PushConsumeRun.ExecuteAsync(connection, new PushConsumeRun.Settings(
                    Topic: parse.GetRequiredValue(topic),
                    Group: parse.GetRequiredValue(group),
                    Selector: Selector(parse),
                    Limit: limit ?? int.MaxValue,
                    IdleExit: parse.GetValue(follow) ? null : parse.GetValue(idleExit).Value,
                    Json: parse.GetValue(json),
                    From: parse.GetRequiredValue(from),
                    Orderly: parse.GetValue(orderly),
                    Broadcast: parse.GetValue(broadcast),
                    InstanceName: parse.GetValue(instance)), cancellationToken);
            }
            var run = new ConsumeRun(
                Topic: parse.GetRequiredValue(topic),
                Limit: limit ?? int.MaxValue,
                IdleExit: parse.GetValue(follow) ? null : parse.GetValue(idleExit).Value,
                Json: parse.GetValue(json));
            var options = new PullConsumerOptions
            {
                ConsumerGroup = parse.GetRequiredValue(group),
                PullBatchSize = Math.Min(32, run.Limit),
            };
            parse.GetRequiredValue(from).ApplyTo(options);
            var admin = connection.CreateAdminClient();
            // A consumer would wait for the topic to appear; on the command line a typo is the likelier cause.
            if (await admin.GetTopicConfigAsync(run.Topic, cancellationToken) is null)
            {
                throw new MQException(MQErrorCode.TopicNotFound, $"topic '{run.Topic}' does not exist; 'orleansmq topic list' shows the topics");
            }
            await using var consumer = connection.CreatePullConsumer(options);
            consumer.Subscribe(run.Topic, Selector(parse));
            // As a push consumer of the group would, read the group's retry topic too (from its first offset): what
            // consumers sent back, 'message resend' and 'dlq resend' deliver there, with the original topic restored.
            var retryTopic = Names.RetryTopic(options.ConsumerGroup);
            if (await admin.GetTopicConfigAsync(retryTopic, cancellationToken) is not null)
            {
                consumer.Subscribe(retryTopic);
            }
            await consumer.StartAsync(cancellationToken);
            try
            {
                return await run.ExecuteAsync(consumer, cancellationToken);
            }
            finally
            {
                using var stopTimeout = new CancellationTokenSource(CommitTimeout);
                await consumer.StopAsync(stopTimeout.Token);
            }
        });
        return command;
    }

    internal sealed record ConsumeRun(string Topic, int Limit, TimeSpan? IdleExit, bool Json)
    {
        // Per queue, the offset after the last printed message: what the group commits on exit.
        private readonly Dictionary<MessageQueue, long> _nextOffsets = [];
        private int _printed;

        // The first message of the current batch not printed yet: where its queue resumes if the batch is cut short
        // (by --count, or by stdout closing), null once the batch is printed whole.
        private MessageExt? _firstUnprinted;

        public async Task<int> ExecuteAsync(PullConsumer consumer, CancellationToken cancellationToken)
        {
            var interrupted = false;
            var outputClosed = false;
            try
            {
                await PrintUntilDoneAsync(consumer, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                interrupted = true;
            }
            catch (OutputClosedException)
            {
                // `consume … | head -n 3`: stop like --count would. Lines the reader left unread in the pipe are lost to
                // this group, as no writer can tell them apart from read ones; --count is exact.
                outputClosed = true;
            }
            finally
            {
                // Also after a failure: what was printed is consumed, and committing it keeps the next run from repeating it.
                using var commitTimeout = new CancellationTokenSource(CommitTimeout);
                await CommitPrintedAsync(consumer, commitTimeout.Token);
            }
            Output.Note($"consumed {_printed} message(s) from {Topic}{(interrupted ? " (interrupted)" : outputClosed ? " (stdout closed)" : "")}; committed {Describe(_nextOffsets)}");
            return ExitCodes.Ok;
        }

        /// <summary>
        /// Commits the position after the last printed message of each queue. A poll returns messages of one queue,
        /// and only the last one can be cut short, so the consumer's own position is exact once that queue is moved
        /// back to its first unprinted message; committing the positions (not just the printed offsets) also moves
        /// past messages the tag filter skipped, as RocketMQ does.
        /// </summary>
        private async Task CommitPrintedAsync(PullConsumer consumer, CancellationToken cancellationToken)
        {
            if (_nextOffsets.Count > 0)
            {
                // Covers queues a rebalance took away meanwhile, whose positions the consumer no longer holds.
                await consumer.CommitAsync(_nextOffsets, cancellationToken);
            }
            if (_firstUnprinted is { } resume && consumer.Assignment.Contains(resume.Queue))
            {
                consumer.Seek(resume.Queue, resume.QueueOffset);
            }
            await consumer.CommitAsync(cancellationToken);
        }

        private async Task PrintUntilDoneAsync(PullConsumer consumer, CancellationToken cancellationToken)
        {
            var idle = Stopwatch.StartNew();
            while (_printed < Limit)
            {
                var wait = FollowPoll;
                if (IdleExit is { } idleExit)
                {
                    wait = idleExit - idle.Elapsed;
                    if (wait <= TimeSpan.Zero)
                    {
                        return;
                    }
                }
                var messages = await consumer.PollAsync(wait, cancellationToken);
                if (messages.Count == 0)
                {
                    continue;
                }
                // No await in between: Ctrl-C never leaves a batch half printed; only --count or a closed stdout can.
                foreach (var message in messages)
                {
                    _firstUnprinted = message;
                    if (_printed >= Limit)
                    {
                        return;
                    }
                    Print(OrleansMQ.Retry.RetryRules.AsDelivered(message));
                    _nextOffsets[message.Queue] = message.QueueOffset + 1;
                    _printed++;
                }
                _firstUnprinted = null;
                idle.Restart();
            }
        }

        private void Print(MessageExt m) => MessagePrinter.Print(m, Json);

        private static string Describe(Dictionary<MessageQueue, long> offsets) =>
            offsets.Count == 0 ? "nothing new"
            : "through " + string.Join(", ", offsets.OrderBy(kv => kv.Key).Select(kv => $"queue {kv.Key.QueueId} offset {kv.Value - 1}"));
    }
}
