using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A 2-silo cluster of its own for tests that stop a silo (so they never disturb the shared cluster).
/// Client calls time out after 10 s, so a response lost with the stopping silo is retried soon. Tests put the grains
/// they care about on the silo they are about to stop with <see cref="SteeredPlacement.Steer"/>; every other grain is
/// placed at random.
/// </summary>
public sealed class SiloStopClusterFixture : ClusterFixtureBase
{
    protected override void Configure(TestClusterBuilder builder)
    {
        builder.AddClientBuilderConfigurator<ShortTimeoutClientConfigurator>();
        builder.AddSiloBuilderConfigurator<SteeredPlacementConfigurator>();
    }

    /// <summary>
    /// Steers <paramref name="grain"/> to <paramref name="silo"/> and, while it is active elsewhere (placed before it was
    /// steered), deactivates it and touches it with <paramref name="touch"/> again; true once it lives there (within 60 s).
    /// </summary>
    public async Task<bool> PlaceOnAsync(IAddressable grain, Func<Task> touch, SiloAddress silo)
    {
        SteeredPlacement.Steer(grain, silo);
        var management = Client.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            await touch();
            if (silo.Equals(await management.GetActivationAddress(grain))) return true;
            if (DateTime.UtcNow > deadline) return false;
            // A deactivation request does not always take (a busy activation may serve the next call first): ask again until one does.
            await management.DeactivateGrain(grain.GetGrainId());
            await Task.Delay(200);
        }
    }

    private sealed class SteeredPlacementConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddPlacementDirector<SteeredPlacement, SteeredPlacement.Director>();
            siloBuilder.Services.AddSingleton<PlacementStrategy, SteeredPlacement>();
        }
    }
}
