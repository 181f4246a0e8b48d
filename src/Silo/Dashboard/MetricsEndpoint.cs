using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// <c>GET /metrics</c> in Prometheus' text format, on the console's port: the broker's meters (<c>OrleansMQ.*</c>:
/// messages appended and pulled per topic, group-commit size and duration), Orleans' (<c>Microsoft.Orleans</c>:
/// grain calls, activations, messaging) and the .NET runtime's (<c>System.Runtime</c>: GC, thread pool, CPU). Like
/// the probes it needs no login, so a scraper needs no console password; it carries no message data.
/// </summary>
internal static class MetricsEndpoint
{
    private const string Path = "/metrics";

    /// <summary>The meters exported; each silo process serves its own.</summary>
    internal static readonly string[] Meters = ["OrleansMQ.*", "Microsoft.Orleans", "System.Runtime"];

    public static bool IsMetrics(PathString path) => path.Equals(Path);

    public static void AddServices(IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());

    public static void Map(WebApplication app) => app.MapPrometheusScrapingEndpoint(Path);
}
