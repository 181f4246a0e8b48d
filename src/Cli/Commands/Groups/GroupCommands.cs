using System.CommandLine;
using OrleansMQ.Cli.Common;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Groups;

/// <summary><c>orleansmq group progress | describe | reset-offset</c>: mqadmin consumerProgress, consumerConnection and resetOffsetByTime.</summary>
internal static class GroupCommands
{
    public static Command Create() => new("group", "List and inspect consumer groups (progress, live instances with their queues and locks), move their offsets, delete them")
    {
        ListGroups(),
        Progress(),
        Describe(),
        ResetOffset(),
        DeleteGroup(),
    };

    private static Argument<string> GroupName() => new("group") { Description = "Consumer group name" };

    private static Command ListGroups()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per group instead of a table" };
        var command = new Command("list", "Every consumer group the broker knows, with its live instances and total lag (mqadmin consumerProgress without a group)") { json };
        command.SetBrokerAction(_ => { }, async (parse, connection, cancellationToken) =>
        {
            var rows = await connection.CreateAdminClient().ListGroupSummariesAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var row in rows)
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("group", row.Group);
                        if (row.Error is { } error)
                        {
                            w.WriteString("error", $"{error.Code}: {error.Message}");
                            return;
                        }
                        w.WriteNumber("instances", row.Instances);
                        w.WriteNumber("topics", row.Topics.Count);
                        w.WriteNumber("totalLag", row.TotalLag);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Group", "Instances", "Topics", "Total Lag").RightAligned(1, 2, 3);
            foreach (var row in rows)
            {
                // One group the broker cannot describe is shown with its error, not allowed to hide the others.
                table.AddPlainRow(row.Group, row.Error is null ? row.Instances.ToString() : $"{row.Error.Code}: {row.Error.Message}",
                    row.Error is null ? row.Topics.Count.ToString() : "", row.Error is null ? row.TotalLag.ToString() : "");
            }
            Output.Write(table);
            Output.Note($"{rows.Count} group(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DeleteGroup()
    {
        var group = GroupName();
        var keepDlq = new Option<bool>("--keep-dlq") { Description = "Keep the group's dead-letter topic (%DLQ%group) and its messages" };
        var command = new Command("delete",
            """
            Delete a consumer group (mqadmin deleteSubGroup): its committed offsets on every topic, its broadcasting offsets,
            its retry topic and its dead-letter topic (unless --keep-dlq). The group must have no live instance: stop its
            consumers first. A consumer started later with this name is a new group and starts where ConsumeFromWhere says.
            Example: orleansmq group delete bench-e2e-1a2b3c4d
            """)
        { group, keepDlq };
        command.SetBrokerAction(parse => Names.CheckGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var deletion = await connection.CreateAdminClient().DeleteGroupAsync(parse.GetRequiredValue(group), parse.GetValue(keepDlq), cancellationToken);
            Output.Line($"deleted group {deletion.Group}: {deletion.OffsetsRemoved} offset(s) removed" +
                        (deletion.TopicsDeleted.Count > 0 ? $", topics {string.Join(", ", deletion.TopicsDeleted)} deleted" : ""));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Progress()
    {
        var group = GroupName();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per queue instead of a table" };
        var command = new Command("progress", "Per queue: broker offset, consumer offset and lag of a group (mqadmin consumerProgress)") { group, json };
        command.SetBrokerAction(parse => Names.CheckGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(group);
            var queues = await connection.CreateAdminClient().GetGroupProgressAsync(name, cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var queue in queues.OrderBy(q => q.Topic, StringComparer.Ordinal).ThenBy(q => q.QueueId))
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("topic", queue.Topic);
                        w.WriteNumber("queueId", queue.QueueId);
                        w.WriteNumber("brokerOffset", queue.BrokerOffset);
                        w.WriteNumber("consumerOffset", queue.ConsumerOffset);
                        w.WriteNumber("lag", queue.Lag);
                        if (queue.LastStoredAt is { } stored) w.WriteString("lastStoredAt", stored);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Topic", "Queue", "Broker Offset", "Consumer Offset", "Diff", "Last Store Time").RightAligned(1, 2, 3, 4);
            foreach (var queue in queues.OrderBy(q => q.Topic, StringComparer.Ordinal).ThenBy(q => q.QueueId))
            {
                table.AddPlainRow(queue.Topic, queue.QueueId.ToString(), queue.BrokerOffset.ToString(),
                    queue.ConsumerOffset < 0 ? "-" : queue.ConsumerOffset.ToString(), queue.Lag.ToString(), Output.Time(queue.LastStoredAt));
            }
            Output.Write(table);
            Output.Line(queues.Count == 0
                ? $"group {name} has no committed offsets and no subscriptions"
                : $"total lag: {queues.Sum(q => q.Lag)} message(s) over {queues.Count} queue(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Describe()
    {
        var group = GroupName();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per live instance instead of a table" };
        var command = new Command("describe",
            "Live consumer instances of a group: client id, instance name, host, message model, consume mode, allocation strategy, " +
            "assigned queues, held orderly locks, subscriptions, last heartbeat (mqadmin consumerConnection + consumerStatus)") { group, json };
        command.SetBrokerAction(parse => Names.CheckGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(group);
            var instances = await connection.CreateAdminClient().GetGroupInstancesAsync(name, cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var instance in instances.OrderBy(i => i.ClientId, StringComparer.Ordinal))
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("clientId", instance.ClientId);
                        w.WriteString("instanceName", instance.InstanceName);
                        w.WriteString("host", instance.Host);
                        w.WriteString("messageModel", instance.MessageModel.ToString());
                        w.WriteBoolean("orderly", instance.Orderly);
                        w.WriteString("allocateStrategy", instance.AllocateStrategy);
                        WriteQueues(w, "queues", instance.Assignment);
                        WriteQueues(w, "locks", instance.Locks);
                        w.WriteStartArray("subscriptions");
                        foreach (var s in instance.Subscriptions)
                        {
                            w.WriteStartObject();
                            w.WriteString("topic", s.Topic);
                            w.WriteString("expressionType", s.ExpressionType.ToString());
                            w.WriteString("expression", s.Expression);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteString("lastHeartbeat", instance.LastHeartbeat);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Client Id", "Instance", "Host", "Model", "Mode", "Strategy", "Queues", "Locks", "Subscriptions", "Last Heartbeat");
            foreach (var instance in instances.OrderBy(i => i.ClientId, StringComparer.Ordinal))
            {
                var subscriptions = string.Join(Environment.NewLine, instance.Subscriptions.Select(s => $"{s.Topic} [{s.Describe()}]"));
                table.AddPlainRow(instance.ClientId, instance.InstanceName ?? "-", instance.Host ?? "-", instance.MessageModel.ToString(),
                    instance.Orderly ? "orderly" : "concurrently", instance.AllocateStrategy ?? "-",
                    QueueList(instance.Assignment), instance.Orderly ? QueueList(instance.Locks) : "-", subscriptions, Output.Time(instance.LastHeartbeat));
            }
            Output.Write(table);
            Output.Line($"{instances.Count} live instance(s) in group {name}" +
                        (instances.Count > 0 ? $"; model {string.Join("/", instances.Select(i => i.MessageModel).Distinct())}" +
                                               $", strategy {string.Join("/", instances.Select(i => i.AllocateStrategy ?? "-").Distinct())}" +
                                               $", {instances.Sum(i => i.Locks.Count)} queue lock(s) held" : ""));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteQueues(System.Text.Json.Utf8JsonWriter w, string name, IEnumerable<MessageQueue> queues)
    {
        w.WriteStartArray(name);
        foreach (var q in queues.Order())
        {
            w.WriteStringValue(q.ToString());
        }
        w.WriteEndArray();
    }

    private static Command ResetOffset()
    {
        var group = GroupName();
        var topic = new Option<string>("--topic") { Description = "Topic whose offsets move (every queue of it)", Required = true };
        var toTime = TimeArguments.Option("--to-time", "Move to the first message stored at or after this time", required: true);
        var command = new Command("reset-offset",
            """
            Message backtracking (mqadmin resetOffsetByTime): move the group's committed offset on every queue of a topic
            to the first message stored at or after a time, backwards to re-consume or forwards to skip.
            The group must have no live instance: stop its consumers first.
            Example: orleansmq group reset-offset billing --topic orders --to-time -2h
            """)
        { group, topic, toTime };
        command.SetBrokerAction(
            parse =>
            {
                Names.CheckGroup(parse.GetValue(group));
                Names.CheckExistingTopic(parse.GetValue(topic));
            },
            async (parse, connection, cancellationToken) =>
            {
                var name = parse.GetRequiredValue(group);
                var time = parse.GetValue(toTime)!.Value;
                var resets = await connection.CreateAdminClient().ResetOffsetsByTimeAsync(name, parse.GetRequiredValue(topic), time, cancellationToken);
                var table = Output.NewTable("Topic", "Queue", "Old Offset", "New Offset").RightAligned(1, 2, 3);
                foreach (var reset in resets)
                {
                    table.AddPlainRow(reset.Queue.Topic, reset.Queue.QueueId.ToString(), reset.Before < 0 ? "-" : reset.Before.ToString(), reset.After.ToString());
                }
                Output.Write(table);
                Output.Line($"group {name} now starts at the first message stored from {Output.Time(time)} on {resets.Count} queue(s)");
                return ExitCodes.Ok;
            });
        return command;
    }

    /// <summary>Queues grouped by topic: <c>orders:0,1,2</c>, one topic per line; "-" for none.</summary>
    internal static string QueueList(IReadOnlyList<MessageQueue> queues) =>
        queues.Count == 0
            ? "-"
            : string.Join(Environment.NewLine, queues.GroupBy(q => q.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key}:{string.Join(",", g.Select(q => q.QueueId).Order())}"));
}
