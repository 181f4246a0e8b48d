using System.CommandLine;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.Topics;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Topics;

/// <summary><c>orleansmq topic create | update | list | status | delete</c>: mqadmin's updateTopic, updateTopicPerm, topicList, topicStatus, deleteTopic.</summary>
internal static class TopicCommands
{
    public static Command Create() => new("topic", "Create, update, list, inspect and delete topics")
    {
        CreateTopic(),
        UpdateTopic(),
        ListTopics(),
        TopicStatus(),
        DeleteTopic(),
    };

    private static Argument<string> TopicName(string description) => new("name") { Description = description };

    private static Command CreateTopic()
    {
        var name = TopicName("Topic name: letters, digits, % - _ |, at most 127 characters");
        var queues = new Option<int>("--queues", "-q")
        {
            Description = $"Number of queues (1 to {Limits.MaxQueues}); more queues allow more parallel consumers",
            DefaultValueFactory = _ => 8,
        };
        var type = new Option<string>("--type")
        {
            Description = "Message type the topic carries",
            DefaultValueFactory = _ => "normal",
        };
        type.AcceptOnlyFromAmong("normal", "fifo", "delay", "transaction");
        var retention = new Option<int>("--retention-hours")
        {
            Description = "How long the topic keeps messages, in hours (RocketMQ's fileReservedTime); at least 1",
            DefaultValueFactory = _ => 72,
        };

        var command = new Command("create", "Create a topic (mqadmin updateTopic for a new topic); 'topic update' changes one") { name, queues, type, retention };
        command.SetBrokerAction(parse => Names.CheckTopic(parse.GetValue(name)), async (parse, connection, cancellationToken) =>
        {
            var topic = parse.GetRequiredValue(name);
            var queueCount = parse.GetValue(queues);
            var messageType = Enum.Parse<TopicMessageType>(parse.GetRequiredValue(type), ignoreCase: true);
            var admin = connection.CreateAdminClient();
            var config = await admin.CreateTopicAsync(
                new TopicConfig(topic, queueCount, MessageType: messageType, RetentionHours: parse.GetValue(retention)), cancellationToken);
            Output.Line($"created topic {Describe(config)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command UpdateTopic()
    {
        var name = TopicName("Topic name");
        var queues = new Option<int?>("--queues", "-q")
        {
            Description = $"New number of queues, up to {Limits.MaxQueues}; a topic's queue count can only grow (its queues hold messages and offsets)",
        };
        var perm = new Option<string?>("--perm")
        {
            Description = "Permission, as mqadmin updateTopicPerm: rw (6, read and write), r (4, read only: sends are refused) or w (2, write only: consumers pause)",
        };
        perm.AcceptOnlyFromAmong("rw", "r", "w", "6", "4", "2");
        var type = new Option<string?>("--type") { Description = "Message type the topic carries from now on" };
        type.AcceptOnlyFromAmong("normal", "fifo", "delay", "transaction");
        var retention = new Option<int?>("--retention-hours")
        {
            Description = "How long the topic keeps messages, in hours; at least 1",
        };

        var command = new Command("update",
            """
            Change a topic (mqadmin updateTopic / updateTopicPerm): grow its queues, set its permission, message type or retention.
            Producers and consumers pick up new queues at their next route refresh (30 s and 20 s by default).
            Examples: orleansmq topic update orders --queues 16
                      orleansmq topic update orders --perm r          (stop sends, let consumers drain it)
            """)
        {
            name, queues, perm, type, retention,
        };
        command.SetBrokerAction(parse =>
        {
            Names.CheckTopic(parse.GetValue(name));
            ToUpdate(parse).CheckValues();
        }, async (parse, connection, cancellationToken) =>
        {
            var topic = parse.GetRequiredValue(name);
            var config = await connection.CreateAdminClient().UpdateTopicAsync(topic, ToUpdate(parse), cancellationToken);
            Output.Line($"updated topic {Describe(config)}");
            return ExitCodes.Ok;
        });
        return command;

        TopicUpdate ToUpdate(ParseResult parse) => new(
            parse.GetValue(queues),
            parse.GetValue(perm) switch
            {
                "rw" or "6" => TopicPermission.ReadWrite,
                "r" or "4" => TopicPermission.Read,
                "w" or "2" => TopicPermission.Write,
                _ => null,
            },
            parse.GetValue(type) is { } t ? Enum.Parse<TopicMessageType>(t, ignoreCase: true) : null,
            parse.GetValue(retention));
    }

    private static string Describe(TopicConfig config) =>
        $"{config.Name}: {config.Queues} queues, type {TypeName(config.MessageType)}, perm {PermissionName(config.Permission)}, retention {config.RetentionHours} h";

    private static Command ListTopics()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per topic instead of a table" };
        var command = new Command("list", "List topics (mqadmin topicList)") { json };
        command.SetBrokerAction(_ => { }, async (parse, connection, cancellationToken) =>
        {
            var topics = await connection.CreateAdminClient().ListTopicsAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var topic in topics.OrderBy(t => t.Name, StringComparer.Ordinal))
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("name", topic.Name);
                        w.WriteNumber("queues", topic.Queues);
                        w.WriteString("messageType", TypeName(topic.MessageType));
                        w.WriteString("perm", PermissionName(topic.Permission));
                        w.WriteNumber("retentionHours", topic.RetentionHours);
                        w.WriteString("createdAt", topic.CreatedAt);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Topic", "Queues", "Type", "Perm", "Retention", "Created").RightAligned(1).RightAligned(4);
            foreach (var topic in topics.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                table.AddPlainRow(topic.Name, topic.Queues.ToString(), TypeName(topic.MessageType), PermissionName(topic.Permission),
                    $"{topic.RetentionHours} h", Output.Time(topic.CreatedAt));
            }
            Output.Write(table);
            Output.Note($"{topics.Count} topic(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command TopicStatus()
    {
        var name = TopicName("Topic name (the broker's own topics, such as %RETRY%group or SCHEDULE_TOPIC_XXXX, are allowed)");
        var json = new Option<bool>("--json") { Description = "Print one JSON object per queue instead of a table" };
        var command = new Command("status", "Show each queue's min offset, max offset and last store time (mqadmin topicStatus)") { name, json };
        command.SetBrokerAction(parse => Names.CheckReadableTopic(parse.GetValue(name)), async (parse, connection, cancellationToken) =>
        {
            var topic = parse.GetRequiredValue(name);
            var queues = await connection.CreateAdminClient().GetTopicStatusAsync(topic, cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var queue in queues.OrderBy(q => q.QueueId))
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteNumber("queueId", queue.QueueId);
                        w.WriteNumber("minOffset", queue.MinOffset);
                        w.WriteNumber("maxOffset", queue.MaxOffset);
                        w.WriteNumber("messages", queue.MaxOffset - queue.MinOffset);
                        if (queue.LastStoredAt is { } stored) w.WriteString("lastStoredAt", stored);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Queue", "Min Offset", "Max Offset", "Messages", "Last Store Time").RightAligned(0, 1, 2, 3);
            foreach (var queue in queues.OrderBy(q => q.QueueId))
            {
                table.AddPlainRow(queue.QueueId.ToString(), queue.MinOffset.ToString(), queue.MaxOffset.ToString(),
                    (queue.MaxOffset - queue.MinOffset).ToString(), Output.Time(queue.LastStoredAt));
            }
            Output.Write(table);
            Output.Line(
                $"total: {queues.Sum(q => q.MaxOffset - q.MinOffset)} message(s) in {queues.Count} queue(s), last stored {Output.Time(queues.Max(q => q.LastStoredAt))}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DeleteTopic()
    {
        var name = TopicName("Topic name");
        var command = new Command("delete", "Delete a topic with its messages and consumer offsets (mqadmin deleteTopic)") { name };
        command.SetBrokerAction(parse => Names.CheckExistingTopic(parse.GetValue(name)), async (parse, connection, cancellationToken) =>
        {
            var topic = parse.GetRequiredValue(name);
            await connection.CreateAdminClient().DeleteTopicAsync(topic, cancellationToken);
            Output.Line($"deleted topic {topic}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The syntax of a topic that may already exist; the admin client then also refuses reserved names, except a
    /// group's %RETRY% and %DLQ% topics, which may be inspected and deleted.
    /// </summary>

    internal static string TypeName(TopicMessageType type) => type.ToString().ToLowerInvariant();

    internal static string PermissionName(TopicPermission permission) => permission switch
    {
        TopicPermission.ReadWrite => "RW",
        TopicPermission.Read => "R",
        TopicPermission.Write => "W",
        _ => "-",
    };
}
