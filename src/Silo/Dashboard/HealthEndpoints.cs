using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// Probes for an orchestrator (Kubernetes, deploy/): <c>/healthz</c> answers 200 while the process serves HTTP
/// (liveness), and <c>/readyz</c> answers 200 only while this silo is an active member of its cluster, 503 otherwise
/// (readiness), so a gateway Service stops sending clients to a silo that is joining or leaving. Neither calls a grain
/// or Postgres: a store outage must not make the orchestrator restart every silo.
/// </summary>
internal static class HealthEndpoints
{
    private const string Liveness = "/healthz";
    private const string Readiness = "/readyz";

    /// <summary>Whether a request is for a probe, which answers without a login.</summary>
    public static bool IsProbe(PathString path) => path.Equals(Liveness) || path.Equals(Readiness);

    public static void Map(WebApplication app, ISiloStatusOracle membership)
    {
        app.MapGet(Liveness, () => Results.Json(new HealthAnswer("alive", membership.CurrentStatus.ToString(), membership.SiloAddress.ToString()), DashboardApi.Json));
        app.MapGet(Readiness, () =>
        {
            var status = membership.CurrentStatus;
            var answer = new HealthAnswer(status == SiloStatus.Active ? "ready" : "not ready", status.ToString(), membership.SiloAddress.ToString());
            return Results.Json(answer, DashboardApi.Json, statusCode: status == SiloStatus.Active ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }

    /// <summary>A probe's answer: its verdict, the silo's membership status and address.</summary>
    internal sealed record HealthAnswer(string Verdict, string SiloStatus, string Silo);
}
