using System.CommandLine;
using OrleansMQ.Cli.Commands.Messages;
using OrleansMQ.Cli.Common;
using OrleansMQ.Admin;
using OrleansMQ.Messages;
using OrleansMQ.Queries;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Queries;

/// <summary><c>orleansmq message id | key | offset | track</c>: mqadmin queryMsgById, queryMsgByKey, queryMsgByOffset and the message track.</summary>
internal static class MessageCommands
{
    public static Command Create() => new("message", "Look up stored messages by message id, by key or by queue offset, and which groups consumed them")
    {
        ById(),
        ByKey(),
        ByOffset(),
        Track(),
        Resend(),
    };

    private static Option<bool> Json() => new("--json") { Description = "Print one JSON object per message (for jq and scripts)" };

    private static Option<int> Max(int defaultValue) => new("--max")
    {
        Description = $"Most messages to print (1 to {QueryRules.MaxResults})",
        DefaultValueFactory = _ => defaultValue,
    };

    private static Command ById()
    {
        var msgId = new Argument<string>("msg-id") { Description = "Message id, as send printed it" };
        var max = Max(32);
        var json = Json();
        var command = new Command("id",
            """
            Print every stored copy of the message with this id (mqadmin queryMsgById).
            Example: orleansmq message id 0193A1B2C3D47E8F9A0B1C2D3E4F5A6B
            """)
        { msgId, max, json };
        command.SetBrokerAction(
            parse =>
            {
                QueryRules.CheckMsgId(parse.GetValue(msgId));
                QueryRules.CheckMaxResults(parse.GetValue(max));
            },
            async (parse, connection, cancellationToken) =>
            {
                var id = parse.GetRequiredValue(msgId).Trim();
                var found = await connection.CreateAdminClient().QueryMessageByIdAsync(id, parse.GetValue(max), cancellationToken);
                return PrintAll(found, parse.GetValue(json), $"no stored message has id {id}");
            });
        return command;
    }

    private static Command ByKey()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to search" };
        var key = new Argument<string>("key") { Description = "A business key the producer set (Message.Keys)" };
        var begin = TimeArguments.Option("--begin", "Earliest store time searched (default: 3 days ago, the default retention)");
        var end = TimeArguments.Option("--end", "Store times before this are searched (default: now)");
        var max = Max(64);
        var json = Json();
        var command = new Command("key",
            """
            Print the messages of a topic that carry a key, oldest first (mqadmin queryMsgByKey).
            Example: orleansmq message key Orders order-1 --begin -2h
            """)
        { topic, key, begin, end, max, json };
        command.SetBrokerAction(
            parse =>
            {
                Names.CheckReadableTopic(parse.GetValue(topic));
                QueryRules.CheckKey(parse.GetValue(key));
                QueryRules.CheckMaxResults(parse.GetValue(max));
            },
            async (parse, connection, cancellationToken) =>
            {
                var from = parse.GetValue(begin) ?? DateTimeOffset.UtcNow.AddHours(-72);
                // End is exclusive; a tick past now includes a message stored this very moment.
                var to = parse.GetValue(end) ?? DateTimeOffset.UtcNow.AddTicks(1);
                var found = await connection.CreateAdminClient().QueryMessageByKeyAsync(
                    parse.GetRequiredValue(topic), parse.GetRequiredValue(key), from, to, parse.GetValue(max), cancellationToken);
                return PrintAll(found, parse.GetValue(json),
                    $"no message of {parse.GetValue(topic)} with key {parse.GetValue(key)} was stored between {Output.Time(from)} and {Output.Time(to)}");
            });
        return command;
    }

    private static Command ByOffset()
    {
        var topic = new Argument<string>("topic") { Description = "Topic" };
        var queue = new Argument<int>("queue") { Description = "Queue id" };
        var offset = new Argument<long>("offset") { Description = "Queue offset" };
        var json = Json();
        var command = new Command("offset",
            """
            Print the message at one queue offset (mqadmin queryMsgByOffset).
            Example: orleansmq message offset Orders 3 42
            """)
        { topic, queue, offset, json };
        command.SetBrokerAction(
            parse => Names.CheckReadableTopic(parse.GetValue(topic)),
            async (parse, connection, cancellationToken) =>
            {
                var message = await connection.CreateAdminClient().QueryMessageByOffsetAsync(
                    parse.GetRequiredValue(topic), parse.GetValue(queue), parse.GetValue(offset), cancellationToken);
                MessagePrinter.Print(message, parse.GetValue(json));
                return ExitCodes.Ok;
            });
        return command;
    }

    private static Command Track()
    {
        var msgId = new Argument<string>("msg-id") { Description = "Message id, as send printed it" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per group and stored copy (for jq and scripts)" };
        var command = new Command("track",
            """
            Show, for every stored copy of a message, where it stands with each consumer group that has offsets on its topic
            (RocketMQ's message track): Consumed, ConsumedButFiltered, NotConsumedYet, or NotOnline (no live instance). The copy a
            delayed or timer message waits as in the broker's schedule topic shows as Scheduled, with its due time.
            Example: orleansmq message track 0193A1B2C3D47E8F9A0B1C2D3E4F5A6B
            """)
        { msgId, json };
        command.SetBrokerAction(
            parse => QueryRules.CheckMsgId(parse.GetValue(msgId)),
            async (parse, connection, cancellationToken) =>
            {
                var id = parse.GetRequiredValue(msgId).Trim();
                var admin = connection.CreateAdminClient();
                var copies = await admin.QueryMessageByIdAsync(id, QueryRules.MaxResults, cancellationToken);
                if (copies.Count == 0)
                {
                    throw new MQException(MQErrorCode.MessageNotFound, $"no stored message has id {id}");
                }
                var table = Output.NewTable("Queue", "Offset", "Group", "Status", "Committed Offset", "Detail").RightAligned(1, 4);
                var rows = 0;
                foreach (var copy in copies)
                {
                    foreach (var track in await admin.TrackMessageAsync(copy.Topic, copy.QueueId, copy.QueueOffset, cancellationToken))
                    {
                        rows++;
                        if (parse.GetValue(json))
                        {
                            JsonLine.Write(w =>
                            {
                                w.WriteString("msgId", copy.MsgId);
                                w.WriteString("topic", copy.Topic);
                                w.WriteNumber("queueId", copy.QueueId);
                                w.WriteNumber("queueOffset", copy.QueueOffset);
                                w.WriteString("group", track.Group);
                                w.WriteString("status", track.Type.ToString());
                                w.WriteNumber("committedOffset", track.CommittedOffset);
                                w.WriteString("detail", track.Detail);
                            });
                            continue;
                        }
                        table.AddPlainRow($"{copy.Topic}:{copy.QueueId}", copy.QueueOffset.ToString(), track.Group, track.Type.ToString(),
                            track.CommittedOffset < 0 ? "-" : track.CommittedOffset.ToString(), track.Detail);
                    }
                }
                if (!parse.GetValue(json))
                {
                    Output.Write(table);
                    Output.Note($"{rows} group track(s) over {copies.Count} stored cop{(copies.Count == 1 ? "y" : "ies")}");
                }
                return ExitCodes.Ok;
            });
        return command;
    }

    private static Command Resend()
    {
        var msgId = new Argument<string>("msg-id") { Description = "Message id, as send printed it" };
        var group = new Option<string>("--group") { Description = "The consumer group that gets the message again (only this group)", Required = true };
        var command = new Command("resend",
            """
            Deliver a stored message again to one consumer group (the dashboard's resend from the message track): it goes to
            the group's retry topic, due at once, and the group's consumers receive it as a retry. Other groups see nothing.
            Example: orleansmq message resend 0193A1B2C3D47E8F9A0B1C2D3E4F5A6B --group billing
            """)
        { msgId, group };
        command.SetBrokerAction(
            parse =>
            {
                QueryRules.CheckMsgId(parse.GetValue(msgId));
                Names.CheckGroup(parse.GetValue(group));
            },
            async (parse, connection, cancellationToken) =>
            {
                var id = parse.GetRequiredValue(msgId).Trim();
                var name = parse.GetRequiredValue(group);
                var admin = connection.CreateAdminClient();
                // The copy in the topic it was sent to; retried and dead-lettered copies live in the broker's own topics.
                var original = (await admin.QueryMessageByIdAsync(id, QueryRules.MaxResults, cancellationToken)).FirstOrDefault(m => Names.IsClientTopic(m.Topic))
                    ?? throw new MQException(MQErrorCode.MessageNotFound, $"no message with id {id} is stored in a client topic");
                var result = await admin.ResendMessageAsync(name, original.Topic, original.QueueId, original.QueueOffset, cancellationToken);
                Output.Line($"resent {result.MsgId} ({original.Topic}:{original.QueueId} offset {original.QueueOffset}) to group {name} through {result.Topic}");
                return ExitCodes.Ok;
            });
        return command;
    }

    /// <summary>Prints the messages; none found is an error (MessageNotFound, exit 2) so scripts can test for it.</summary>
    private static int PrintAll(IReadOnlyList<MessageExt> messages, bool json, string notFound)
    {
        if (messages.Count == 0)
        {
            throw new MQException(MQErrorCode.MessageNotFound, notFound);
        }
        foreach (var message in messages)
        {
            MessagePrinter.Print(message, json);
        }
        return ExitCodes.Ok;
    }
}
