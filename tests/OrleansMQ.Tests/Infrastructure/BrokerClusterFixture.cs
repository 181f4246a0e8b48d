namespace OrleansMQ.Tests.Infrastructure;

/// <summary>The cluster most broker tests share (one per test run): 2 silos, short broker intervals.</summary>
public sealed class BrokerClusterFixture : ClusterFixtureBase;

/// <summary>Test classes in this collection share one <see cref="BrokerClusterFixture"/>; each test owns its topic and group names.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "Broker cluster";
}
