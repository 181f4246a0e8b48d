using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A 2-silo cluster of its own for tests that stop a silo (so they never disturb the shared cluster).
/// Client calls time out after 10 s, so a response lost with the stopping silo is retried soon. Grains are
/// placed at random: tests re-activate a grain until it lands on the silo they are about to stop, and Orleans'
/// default (resource-optimized) placement keeps choosing whichever silo looks least loaded, possibly never that one.
/// </summary>
public sealed class SiloStopClusterFixture : ClusterFixtureBase
{
    protected override void Configure(TestClusterBuilder builder)
    {
        builder.AddClientBuilderConfigurator<ShortTimeoutClientConfigurator>();
        builder.AddSiloBuilderConfigurator<RandomPlacementConfigurator>();
    }

    private sealed class RandomPlacementConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddSingleton<PlacementStrategy, RandomPlacement>();
    }
}
