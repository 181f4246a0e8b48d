using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansMQ.Silo.Dashboard;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>The web console in test silos, and reading the HTTP API's answers.</summary>
public static class DashboardTesting
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>The console server running in <paramref name="silo"/>.</summary>
    public static DashboardServer ServerOf(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<DashboardServer>();

    /// <summary>Reads an error answer of the API.</summary>
    public static async Task<ApiError> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ApiError>(JsonOptions))!;

    /// <summary>Reads a JSON answer.</summary>
    public static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(JsonOptions);

    /// <summary>Serves the console from every test silo.</summary>
    public sealed class SiloConfigurator : ISiloConfigurator
    {
        // Port 0: Kestrel picks a free port per silo, so the test silos never collide with each other or a real silo.
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddOrleansMQDashboard(o => o.Port = 0);
    }
}
