using System.CommandLine;
using OrleansMQ.Cli.Common;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Groups;

/// <summary><c>orleansmq group progress | describe</c>: mqadmin consumerProgress and consumerConnection.</summary>
internal static class GroupCommands
{
    public static Command Create() => new("group", "Inspect consumer groups: progress (lag) and live instances with their queues and locks")
    {
        Progress(),
        Describe(),
    };

    private static Argument<string> GroupName() => new("group") { Description = "Consumer group name" };

    private static Command Progress()
    {
        var group = GroupName();
        var command = new Command("progress", "Per queue: broker offset, consumer offset and lag of a group (mqadmin consumerProgress)") { group };
        command.SetBrokerAction(parse => Names.CheckGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(group);
            var queues = await connection.CreateAdminClient().GetGroupProgressAsync(name, cancellationToken);
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
        var command = new Command("describe",
            "Live consumer instances of a group: client id, instance name, host, message model, consume mode, allocation strategy, " +
            "assigned queues, held orderly locks, subscriptions, last heartbeat (mqadmin consumerConnection + consumerStatus)") { group };
        command.SetBrokerAction(parse => Names.CheckGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(group);
            var instances = await connection.CreateAdminClient().GetGroupInstancesAsync(name, cancellationToken);
            var table = Output.NewTable("Client Id", "Instance", "Host", "Model", "Mode", "Strategy", "Queues", "Locks", "Subscriptions", "Last Heartbeat");
            foreach (var instance in instances.OrderBy(i => i.ClientId, StringComparer.Ordinal))
            {
                var subscriptions = string.Join(Environment.NewLine, instance.Subscriptions.Select(s => $"{s.Topic} [{s.Expression}]"));
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

    /// <summary>Queues grouped by topic: <c>orders:0,1,2</c>, one topic per line; "-" for none.</summary>
    internal static string QueueList(IReadOnlyList<MessageQueue> queues) =>
        queues.Count == 0
            ? "-"
            : string.Join(Environment.NewLine, queues.GroupBy(q => q.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key}:{string.Join(",", g.Select(q => q.QueueId).Order())}"));
}
