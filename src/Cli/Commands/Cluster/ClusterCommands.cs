using System.CommandLine;
using System.Globalization;
using OrleansMQ.Cli.Common;

namespace OrleansMQ.Cli.Commands.Cluster;

/// <summary><c>orleansmq cluster</c>: the silos of the cluster (mqadmin clusterList), from Orleans' membership table.</summary>
internal static class ClusterCommands
{
    public static Command Create()
    {
        var all = new Option<bool>("--all") { Description = "Also list silos that left or died (as long as the membership table keeps them)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per silo instead of a table" };
        var command = new Command("cluster",
            """
            List the silos of the cluster (mqadmin clusterList): address, gateway, status, start time, and for active silos their activations, clients, CPU and memory.
            Example: orleansmq cluster --gateway broker-1:30000
            """)
        {
            all,
            json,
        };
        command.SetBrokerAction(_ => { }, async (parse, connection, cancellationToken) =>
        {
            var silos = await connection.CreateAdminClient().ListSilosAsync(parse.GetValue(all), cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var s in silos)
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("silo", s.Silo);
                        w.WriteString("address", s.Address);
                        w.WriteString("siloName", s.SiloName);
                        w.WriteString("hostName", s.HostName);
                        w.WriteString("status", s.Status);
                        if (s.Gateway is { } gateway) w.WriteString("gateway", gateway);
                        if (s.StartTime is { } start) w.WriteString("startTime", start);
                        if (s.IAmAliveTime is { } alive) w.WriteString("iAmAliveTime", alive);
                        if (s.Activations is { } activations) w.WriteNumber("activations", activations);
                        if (s.Clients is { } clients) w.WriteNumber("clients", clients);
                        if (s.CpuUsagePercent is { } cpu) w.WriteNumber("cpuUsagePercent", cpu);
                        if (s.MemoryUsageBytes is { } memory) w.WriteNumber("memoryUsageBytes", memory);
                        if (s.Overloaded is { } overloaded) w.WriteBoolean("overloaded", overloaded);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Silo", "Gateway", "Status", "Host", "Started", "Activations", "Clients", "CPU", "Memory")
                .RightAligned(5, 6, 7, 8);
            foreach (var s in silos)
            {
                table.AddPlainRow(s.Address, s.Gateway ?? "-", s.Status, s.HostName, Output.Time(s.StartTime),
                    s.Activations?.ToString("N0", CultureInfo.InvariantCulture) ?? "-", s.Clients?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                    s.CpuUsagePercent is { } cpu ? string.Create(CultureInfo.InvariantCulture, $"{cpu:0.0} %") : "-",
                    s.MemoryUsageBytes is { } memory ? string.Create(CultureInfo.InvariantCulture, $"{memory / (1024.0 * 1024):0} MiB") : "-");
            }
            Output.Write(table);
            Output.Note($"{silos.Count(s => s.Status == "Active")} active silo(s)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
