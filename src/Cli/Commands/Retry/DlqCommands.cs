using System.CommandLine;
using System.Globalization;
using OrleansMQ.Cli.Common;
using OrleansMQ.Delay;
using OrleansMQ.Retry;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Retry;

/// <summary><c>orleansmq dlq list | resend</c>: a group's dead-letter queue, as the RocketMQ dashboard's DLQ page.</summary>
internal static class DlqCommands
{
    public static Command Create() => new("dlq", "Inspect and resend a consumer group's dead letters (%DLQ%<group>)")
    {
        List(),
        Resend(),
    };

    private static Argument<string> GroupName() => new("group") { Description = "Consumer group name" };

    private static Command List()
    {
        var group = GroupName();
        var from = new Option<long>("--from") { Description = "First DLQ offset to show", DefaultValueFactory = _ => 0 };
        var max = new Option<int>("--max") { Description = "Most messages to show (1 to 1000)", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per message instead of a table" };
        var command = new Command("list",
            """
            Messages in the group's dead-letter queue, oldest first: id, original topic, reconsume times, why, and whether it was resent.
            Example: orleansmq dlq list billing
            """)
        {
            group, from, max, json,
        };
        command.SetBrokerAction(parse => Names.CheckGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(group);
            var letters = await connection.CreateAdminClient().ListDeadLettersAsync(name, parse.GetValue(from), parse.GetValue(max), cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var letter in letters)
                {
                    var m = letter.Message;
                    JsonLine.Write(w =>
                    {
                        w.WriteNumber("dlqOffset", m.QueueOffset);
                        w.WriteString("msgId", m.MsgId);
                        w.WriteString("topic", RetryRules.OriginalTopic(m));
                        w.WriteNumber("reconsumeTimes", m.ReconsumeTimes);
                        w.WriteString("storedAt", m.StoredAt);
                        w.WriteString("reason", m.GetProperty(MessageConst.DlqReason) ?? "");
                        if (letter.ResentAt is { } at) w.WriteString("resentAt", at);
                        w.WriteString("body", m.BodyAsString());
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Offset", "Msg Id", "Topic", "Tag", "Reconsumed", "Stored", "Resent", "Reason").RightAligned(0, 4);
            foreach (var letter in letters)
            {
                var m = letter.Message;
                table.AddPlainRow(m.QueueOffset.ToString(CultureInfo.InvariantCulture), m.MsgId, RetryRules.OriginalTopic(m), m.Tag ?? "-",
                    m.ReconsumeTimes.ToString(CultureInfo.InvariantCulture), Output.Time(m.StoredAt), Output.Time(letter.ResentAt), m.GetProperty(MessageConst.DlqReason) ?? "-");
            }
            Output.Write(table);
            Output.Line($"{letters.Count} dead letter(s) of group {name} shown");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Resend()
    {
        var group = GroupName();
        var msgIds = new Option<string[]>("--msg-id") { Description = "Message id to resend; repeatable", HelpName = "id" };
        var all = new Option<bool>("--all") { Description = "Resend every dead letter not resent before" };
        var command = new Command("resend",
            """
            Put dead letters back to the group: delivered again at once through %RETRY%<group>, with a fresh retry budget.
            Example: orleansmq dlq resend billing --msg-id 0193…  |  orleansmq dlq resend billing --all
            """)
        {
            group, msgIds, all,
        };
        command.SetBrokerAction(parse =>
        {
            Names.CheckGroup(parse.GetValue(group));
            var ids = parse.GetValue(msgIds) ?? [];
            if (parse.GetValue(all) == (ids.Length > 0))
            {
                throw CliErrors.BadArgument("give either --msg-id (one or more) or --all");
            }
        }, async (parse, connection, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(group);
            var ids = parse.GetValue(msgIds) is { Length: > 0 } given ? given : null;
            var resent = await connection.CreateAdminClient().ResendDeadLettersAsync(name, ids, cancellationToken);
            foreach (var r in resent)
            {
                Output.Line($"resent msgId={r.MsgId} to {r.Topic}");
            }
            Output.Line($"{resent.Count} dead letter(s) resent to group {name}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
