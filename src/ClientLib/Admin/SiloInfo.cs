namespace OrleansMQ.Client;

/// <summary>
/// One silo of the cluster as the membership table and the silo itself report it: mqadmin clusterList's broker row.
/// The figures are null for a silo that is not active or did not answer.
/// </summary>
/// <param name="Silo">Orleans' silo address with its generation (<c>S10.1.2.3:11111:…</c>), unique per start.</param>
/// <param name="Address">The silo-to-silo endpoint, <c>ip:port</c>.</param>
/// <param name="SiloName">The silo's name in the membership table.</param>
/// <param name="HostName">The machine (or pod) it runs on.</param>
/// <param name="Status">Orleans' membership status: Joining, Active, ShuttingDown, Stopping, Dead.</param>
/// <param name="Gateway">Where clients connect, <c>ip:port</c>; null for a silo without a gateway.</param>
/// <param name="StartTime">When it started (UTC).</param>
/// <param name="IAmAliveTime">Its last liveness write to the membership table (UTC).</param>
/// <param name="Activations">Grain activations it hosts.</param>
/// <param name="Clients">Clients connected to its gateway.</param>
/// <param name="CpuUsagePercent">Its process' CPU use, smoothed, in percent.</param>
/// <param name="MemoryUsageBytes">Its process' memory use, smoothed.</param>
/// <param name="Overloaded">Whether Orleans considers it overloaded (load shedding).</param>
public sealed record SiloInfo(
    string Silo,
    string Address,
    string SiloName,
    string HostName,
    string Status,
    string? Gateway,
    DateTimeOffset? StartTime,
    DateTimeOffset? IAmAliveTime,
    int? Activations,
    long? Clients,
    float? CpuUsagePercent,
    long? MemoryUsageBytes,
    bool? Overloaded);
