using Orleans.TestingHost;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// The cluster most broker tests share (one per test run): 2 silos, short broker intervals. Its silos also serve
/// the web console and HTTP API, as a real silo does, so the API tests need no cluster of their own.
/// </summary>
public sealed class BrokerClusterFixture : ClusterFixtureBase
{
    private HttpClient? _console;

    /// <summary>An HTTP client whose base address is the primary silo's console.</summary>
    public HttpClient ConsoleHttp => _console ??= new HttpClient
    {
        BaseAddress = new Uri(DashboardTesting.ServerOf(Cluster.Primary!).Url!),
        Timeout = TimeSpan.FromSeconds(60),
    };

    protected override void Configure(TestClusterBuilder builder) => builder.AddSiloBuilderConfigurator<DashboardTesting.SiloConfigurator>();
}

/// <summary>Test classes in this collection share one <see cref="BrokerClusterFixture"/>; each test owns its topic and group names.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "Broker cluster";
}
