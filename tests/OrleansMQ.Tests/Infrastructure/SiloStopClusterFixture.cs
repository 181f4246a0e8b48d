using Orleans.TestingHost;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A 2-silo cluster of its own for tests that stop a silo (so they never disturb the shared cluster).
/// Client calls time out after 10 s, so a response lost with the stopping silo is retried soon.
/// </summary>
public sealed class SiloStopClusterFixture : ClusterFixtureBase
{
    protected override void Configure(TestClusterBuilder builder) =>
        builder.AddClientBuilderConfigurator<ShortTimeoutClientConfigurator>();
}
