using Orleans.TestingHost;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A real Orleans test cluster running the broker against its own fresh Postgres database. Silos get
/// the connection string through the TestCluster's configuration (<see cref="TestClusterBuilder.Properties"/>),
/// which is how TestCluster hands settings to silos it builds from a configurator type.
/// </summary>
public abstract class ClusterFixtureBase : IAsyncLifetime
{
    private TestCluster? _cluster;
    private PostgresDatabase? _database;

    /// <summary>Silos to start.</summary>
    protected virtual short Silos => 2;

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster is not started");

    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("the database is not created");

    /// <summary>The cluster client: tests talk to the broker through the grain interfaces.</summary>
    public IClusterClient Client => Cluster.Client;

    /// <summary>Lets a fixture add its own configurators.</summary>
    protected virtual void Configure(TestClusterBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        try
        {
            var builder = new TestClusterBuilder(Silos);
            builder.Properties[TestSiloConfigurator.PostgresKey] = _database.ConnectionString;
            builder.AddSiloBuilderConfigurator<TestSiloConfigurator>();
            Configure(builder);
            _cluster = builder.Build();
            await _cluster.DeployAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            try
            {
                await _cluster.StopAllSilosAsync();
            }
            finally
            {
                await _cluster.DisposeAsync();
                _cluster = null;
            }
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
            _database = null;
        }
    }
}
