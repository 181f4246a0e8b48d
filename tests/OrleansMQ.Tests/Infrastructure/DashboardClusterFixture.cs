using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansMQ.Silo.Dashboard;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A test cluster whose silos also serve the web console and HTTP API, each on a free port, as a real silo does:
/// the tests call the API over HTTP and check what it did through the grains and Postgres.
/// </summary>
public sealed class DashboardClusterFixture : ClusterFixtureBase
{
    private HttpClient? _http;

    /// <summary>An HTTP client whose base address is the primary silo's console.</summary>
    public HttpClient Http => _http ??= new HttpClient { BaseAddress = new Uri(Dashboard(Cluster.Primary!).Url!), Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The console server running in <paramref name="silo"/>.</summary>
    public static DashboardServer Dashboard(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<DashboardServer>();

    protected override void Configure(TestClusterBuilder builder) => builder.AddSiloBuilderConfigurator<DashboardSiloConfigurator>();

    /// <summary>Reads an error answer of the API.</summary>
    public static async Task<ApiError> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ApiError>(JsonOptions))!;

    /// <summary>Reads a JSON answer.</summary>
    public static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(JsonOptions))!;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed class DashboardSiloConfigurator : ISiloConfigurator
    {
        // Port 0: Kestrel picks a free port per silo, so the test silos never collide with each other or a real silo.
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddOrleansMQDashboard(o => o.Port = 0);
    }
}

/// <summary>Tests of the HTTP API share one <see cref="DashboardClusterFixture"/>; each test owns its topic and group names.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardClusterFixture>
{
    public const string Name = "Dashboard cluster";
}
