using System.CommandLine;
using System.Globalization;
using OrleansMQ.Cli.Common;
using OrleansMQ.Delay;

namespace OrleansMQ.Cli.Commands.Delay;

/// <summary><c>orleansmq delay status</c>: the delay levels and timer queues (RocketMQ's schedule progress in mqadmin brokerStatus).</summary>
internal static class DelayCommands
{
    public static Command Create() => new("delay", "Inspect delay levels and timer messages")
    {
        Status(),
    };

    private static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per schedule instead of a table" };
        var command = new Command("status",
            """
            Per delay level and timer queue: pending messages, next due time, and the lateness (delivered - due) of the last deliveries.
            Example: orleansmq delay status
            """)
        {
            json,
        };
        command.SetBrokerAction(_ => { }, async (parse, connection, cancellationToken) =>
        {
            var schedules = await connection.CreateAdminClient().GetScheduleStatusAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var s in schedules)
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("kind", s.Kind.ToString());
                        w.WriteNumber("id", s.Id);
                        if (s.Delay is { } delay) w.WriteNumber("delayMs", delay.TotalMilliseconds);
                        w.WriteNumber("pending", s.Pending);
                        if (s.NextDueAt is { } due) w.WriteString("nextDueAt", due);
                        w.WriteNumber("delivered", s.Delivered);
                        if (s.LastDeliveredAt is { } last) w.WriteString("lastDeliveredAt", last);
                        w.WriteNumber("latenessSamples", s.Lateness.Samples);
                        w.WriteNumber("latenessP50Ms", s.Lateness.P50.TotalMilliseconds);
                        w.WriteNumber("latenessP99Ms", s.Lateness.P99.TotalMilliseconds);
                        w.WriteNumber("latenessMaxMs", s.Lateness.Max.TotalMilliseconds);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Schedule", "Delay", "Pending", "Next Due", "Delivered", "Last Delivery", "Lateness p50", "p99", "max")
                .RightAligned(2, 4, 6, 7, 8);
            foreach (var s in schedules)
            {
                var name = s.Kind == ScheduleKind.DelayLevel ? $"level {s.Id}" : $"timer {s.Id}";
                table.AddPlainRow(name, s.Delay is { } d ? DelayLevelTable.Format(d) : "any", s.Pending.ToString("N0", CultureInfo.InvariantCulture),
                    Output.Time(s.NextDueAt), s.Delivered.ToString("N0", CultureInfo.InvariantCulture), Output.Time(s.LastDeliveredAt),
                    Ms(s.Lateness, s.Lateness.P50), Ms(s.Lateness, s.Lateness.P99), Ms(s.Lateness, s.Lateness.Max));
            }
            Output.Write(table);
            Output.Line($"{schedules.Sum(s => s.Pending):N0} message(s) pending; lateness over the last deliveries of each schedule since its activation");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Ms(LatenessSummary lateness, TimeSpan value) =>
        lateness.Samples == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.0} ms");
}
