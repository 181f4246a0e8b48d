using System.CommandLine;
using System.Globalization;
using OrleansMQ.Cli.Commands.Delay;
using OrleansMQ.Cli.Commands.Transactions;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Messages;

/// <summary><c>orleansmq send</c>: sync sends from the command line (RocketMQ's tools.sh Producer, mqadmin sendMessage).</summary>
internal static class SendCommand
{
    private const string SequencePlaceholder = "{i}";

    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to send to" };
        var body = new Option<string>("--body", "-b")
        {
            Description = $"Message body (UTF-8 text); with --count, '{SequencePlaceholder}' is replaced by the sequence number 1..N",
            HelpName = "text",
        };
        var bodyFile = new Option<FileInfo>("--body-file", "-f")
        {
            Description = "Read the body (bytes, unchanged) from this file instead of --body",
            HelpName = "path",
        };
        var tag = new Option<string>("--tag", "-t") { Description = "Message tag consumers can filter on (one word)" };
        var keys = new Option<string[]>("--keys", "-k")
        {
            Description = $"Business keys, comma-separated or repeated (--keys a,b --keys c); '{SequencePlaceholder}' is replaced as in --body",
            HelpName = "k1,k2",
        };
        var properties = new Option<string[]>("--prop", "-p")
        {
            Description = $"User property key=value, repeatable; '{SequencePlaceholder}' in the value is replaced as in --body",
            HelpName = "key=value",
        };
        var count = new Option<int>("--count", "-n")
        {
            Description = "Number of messages to send, one after the other",
            DefaultValueFactory = _ => 1,
        };
        var messageGroup = new Option<string>("--message-group")
        {
            Description = $"Message group of an ordered message: messages of one group go to one queue and are consumed in send order; '{SequencePlaceholder}' is replaced as in --body",
            HelpName = "group",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per sent message instead of a text line" };
        var schedule = new ScheduleOptions();
        var transaction = new Option<string>("--transaction")
        {
            Description = "Send as a transaction message: a half message, then committed (visible once), rolled back (never visible) " +
                          "or left unknown: checked back later with a live producer of the group (not this command, which exits), " +
                          "discarded after the last check unless resolved ('orleansmq transaction commit|rollback')",
            HelpName = "commit|rollback|unknown",
        };
        transaction.AcceptOnlyFromAmong("commit", "rollback", "unknown");
        var producerGroup = new Option<string>("--producer-group")
        {
            Description = $"Producer group stored with the messages; transactions are checked back with this group (default for --transaction: {TransactionCommands.DefaultCliProducerGroup})",
            HelpName = "group",
        };

        var command = new Command("send",
            """
            Send messages synchronously and print where each was stored (msgId, queue, offset).
            Example: orleansmq send orders --body 'order {i}' --tag created --keys order-{i} --prop region=eu --count 3
            Delayed: --delay-level 3 (10 s with the default table), --deliver-after 90s, --deliver-at 2026-12-01T12:00:00Z (at most 24 h ahead by default)
            Ordered: --message-group order-42 (one queue per group, consumed in send order)
            Transaction: --transaction commit --producer-group shop (also rollback, unknown; see 'orleansmq transaction list')
            """)
        {
            topic, body, bodyFile, tag, keys, properties, count, messageGroup, json, schedule.DelayLevel, schedule.DeliverAfter, schedule.DeliverAt,
            transaction, producerGroup,
        };
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            var topicName = parse.GetRequiredValue(topic);
            Names.CheckTopic(topicName);
            var n = parse.GetValue(count);
            if (n < 1)
            {
                throw CliErrors.BadArgument($"--count is {n}; it must be at least 1");
            }
            var template = await ReadBodyAsync(parse.GetValue(body), parse.GetValue(bodyFile), cancellationToken);
            var keyTemplates = SplitKeys(parse.GetValue(keys));
            var propertyTemplates = ParseProperties(parse.GetValue(properties));
            var tagValue = parse.GetValue(tag);
            var groupTemplate = parse.GetValue(messageGroup);
            var asJson = parse.GetValue(json);
            var when = schedule.Read(parse);
            var localState = ParseTransaction(parse.GetValue(transaction));
            var group = parse.GetValue(producerGroup) ?? (localState is null ? null : TransactionCommands.DefaultCliProducerGroup);
            if (group is not null) Names.CheckGroup(group);

            Message Build(int i)
            {
                var sequence = i.ToString(CultureInfo.InvariantCulture);
                var message = new Message(topicName, template.BodyFor(sequence))
                {
                    Tag = tagValue,
                    Keys = [.. keyTemplates.Select(k => k.Replace(SequencePlaceholder, sequence, StringComparison.Ordinal))],
                    DelayLevel = when.DelayLevel,
                    DeliverAt = when.DeliverAt,
                    DeliverAfter = when.DeliverAfter,
                    MessageGroup = groupTemplate?.Replace(SequencePlaceholder, sequence, StringComparison.Ordinal),
                };
                foreach (var (key, value) in propertyTemplates)
                {
                    message.Properties[key] = value.Replace(SequencePlaceholder, sequence, StringComparison.Ordinal);
                }
                return message;
            }

            // The shared message rules, checked on the first message before connecting: bad input fails at once.
            var first = Build(1);
            MessageRules.Check(new MessageData("", first.Tag, first.Keys, first.Body, first.Properties, DateTimeOffset.UtcNow, null, null));

            await using var connection = await CommandActions.ConnectAsync(parse, cancellationToken);
            var sent = 0;
            try
            {
                if (localState is { } answer)
                {
                    await SendTransactionsAsync(connection, group!, answer, n, i => i == 1 ? first : Build(i), asJson, () => sent++, cancellationToken);
                }
                else
                {
                    await using var producer = connection.CreateProducer(new ProducerOptions { ProducerGroup = group });
                    for (var i = 1; i <= n; i++)
                    {
                        var result = await producer.SendAsync(i == 1 ? first : Build(i), cancellationToken);
                        sent++;
                        Print(result, asJson);
                    }
                }
            }
            catch (MQException e) when (sent > 0)
            {
                throw new MQException(e.Code, $"{e.Message} (after {sent} of {n} messages were sent)", e);
            }
            if (n > 1)
            {
                Output.Note($"sent {n} messages to {topicName}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Sends <paramref name="count"/> transaction messages whose local transaction answers <paramref name="answer"/>. This
    /// process has no local transaction to look at, so it answers every check-back Unknown while it runs.
    /// </summary>
    private static async Task SendTransactionsAsync(OrleansMQConnection connection, string group, LocalTransactionState answer, int count,
        Func<int, Message> build, bool asJson, Action onSent, CancellationToken cancellationToken)
    {
        var listener = new TransactionListener(
            (_, _, _) => Task.FromResult(answer),
            (_, _) => Task.FromResult(LocalTransactionState.Unknown));
        await using var producer = connection.CreateTransactionProducer(new ProducerOptions { ProducerGroup = group }, listener);
        var pending = 0;
        for (var i = 1; i <= count; i++)
        {
            var result = await producer.SendMessageInTransactionAsync(build(i), null, cancellationToken);
            onSent();
            if (result.State == TransactionState.Pending) pending++;
            Print(result, asJson);
        }
        if (pending > 0)
        {
            Output.Note($"{pending} transaction(s) of producer group {group} left pending: the broker checks them back with a live producer of the group " +
                        "(this command has exited and answers nothing), and discards them after its last check; resolve one by hand with " +
                        $"'orleansmq transaction commit|rollback {group} <transactionId>'");
        }
    }

    private static LocalTransactionState? ParseTransaction(string? text) => text switch
    {
        null => null,
        "commit" => LocalTransactionState.Commit,
        "rollback" => LocalTransactionState.Rollback,
        "unknown" => LocalTransactionState.Unknown,
        _ => throw CliErrors.BadArgument($"--transaction '{text}' is not one of commit, rollback, unknown"),
    };

    private static void Print(TransactionSendResult result, bool asJson)
    {
        var local = result.LocalTransactionState.ToString().ToLowerInvariant();
        if (asJson)
        {
            JsonLine.Write(w =>
            {
                w.WriteString("status", result.Status.ToString());
                w.WriteString("msgId", result.MsgId);
                w.WriteString("transactionId", result.TransactionId);
                w.WriteString("topic", result.Queue.Topic);
                w.WriteNumber("queueId", result.Queue.QueueId);
                if (result.QueueOffset is { } offset) w.WriteNumber("queueOffset", offset);
                w.WriteString("localTransactionState", local);
                w.WriteString("state", TransactionCommands.NameOf(result.State));
                w.WriteString("storedAt", result.StoredAt);
            });
        }
        else
        {
            var offset = result.QueueOffset is { } o ? $" offset={o}" : "";
            Output.Line($"{result.Status} msgId={result.MsgId} queue={result.Queue.Topic}:{result.Queue.QueueId}{offset} transaction={local} state={TransactionCommands.NameOf(result.State)}");
        }
    }

    private static void Print(SendResult result, bool asJson)
    {
        if (asJson)
        {
            JsonLine.Write(w =>
            {
                w.WriteString("status", result.Status.ToString());
                w.WriteString("msgId", result.MsgId);
                w.WriteString("topic", result.Queue.Topic);
                w.WriteNumber("queueId", result.Queue.QueueId);
                w.WriteNumber("queueOffset", result.QueueOffset);
                w.WriteString("storedAt", result.StoredAt);
                if (result.ScheduleQueue is { } scheduled)
                {
                    w.WriteString("scheduledOn", scheduled.ToString());
                }
            });
        }
        else
        {
            Output.Line(result.ScheduleQueue is { } scheduled
                ? $"{result.Status} msgId={result.MsgId} queue={result.Queue.Topic}:{result.Queue.QueueId} scheduled on {scheduled} offset={result.QueueOffset}"
                : $"{result.Status} msgId={result.MsgId} queue={result.Queue.Topic}:{result.Queue.QueueId} offset={result.QueueOffset}");
        }
    }

    private static async Task<BodyTemplate> ReadBodyAsync(string? text, FileInfo? file, CancellationToken cancellationToken)
    {
        if (text is not null && file is not null)
        {
            throw CliErrors.BadArgument("give the body either with --body or with --body-file, not both");
        }
        if (file is not null)
        {
            try
            {
                return new BodyTemplate(null, await File.ReadAllBytesAsync(file.FullName, cancellationToken));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliErrors.BadArgument($"cannot read --body-file '{file}': {e.Message}");
            }
        }
        return text is not null
            ? new BodyTemplate(text, null)
            : throw CliErrors.BadArgument("a message needs a body: give --body TEXT or --body-file PATH");
    }

    private static List<string> SplitKeys(string[]? values) =>
        values is null ? [] : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries))];

    private static List<KeyValuePair<string, string>> ParseProperties(string[]? values)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var value in values ?? [])
        {
            var equals = value.IndexOf('=');
            if (equals <= 0)
            {
                throw CliErrors.BadArgument($"--prop '{value}' is not key=value (e.g. --prop region=eu)");
            }
            var key = value[..equals];
            if (result.Any(p => p.Key == key))
            {
                throw CliErrors.BadArgument($"--prop '{key}' is given twice; a message has one value per property");
            }
            result.Add(new(key, value[(equals + 1)..]));
        }
        return result;
    }

    /// <summary>The body as given: text with an optional sequence placeholder, or a file's bytes.</summary>
    private sealed record BodyTemplate(string? Text, byte[]? Bytes)
    {
        public byte[] BodyFor(string sequence) =>
            Bytes ?? System.Text.Encoding.UTF8.GetBytes(Text!.Replace(SequencePlaceholder, sequence, StringComparison.Ordinal));
    }
}
