using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
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
    /// steered), deactivates it and touches it with <paramref name="touch"/> again; true once it lives there (within 90 s).
    /// Where it lives is read from the silos' own activation lists, not from the grain directory, whose cached entries can
    /// lag behind a deactivation.
    /// </summary>
    public async Task<bool> PlaceOnAsync(IAddressable grain, Func<Task> touch, SiloAddress silo)
    {
        SteeredPlacement.Steer(grain, silo);
        var id = grain.GetGrainId();
        var management = Client.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            await touch();
            var hosts = (await management.GetDetailedGrainStatistics()).Where(a => a.GrainId == id).Select(a => a.SiloAddress).ToList();
            if (hosts.Count == 1 && silo.Equals(hosts[0])) return true;
            if (DateTime.UtcNow > deadline)
            {
                Console.Error.WriteLine($"{id} is still active on [{string.Join(", ", hosts)}], not only on {silo}");
                return false;
            }
            // Through the grain's own reference, so the request reaches the activation the touch reached (the management
            // grain's DeactivateGrain, routed through the directory, sometimes never took effect on a loaded machine).
            await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
            await Task.Delay(250);
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
