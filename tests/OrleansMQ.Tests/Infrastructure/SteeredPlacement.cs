using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// Placement for tests that stop a silo: a grain the test has steered (<see cref="Steer"/>) is activated on the silo it
/// named, every other grain on a silo chosen at random. Re-activating a grain until chance puts it on the right silo
/// took minutes on a loaded machine and sometimes never happened; steering makes the placement the test's decision.
/// A steered grain whose silo is gone is placed at random, as any other.
/// </summary>
public sealed class SteeredPlacement : PlacementStrategy
{
    // Silos of a TestCluster run in the test process, so every silo's director reads this one table.
    private static readonly ConcurrentDictionary<GrainId, SiloAddress> Targets = new();

    /// <summary>Activations of <paramref name="grain"/> made from now on go to <paramref name="silo"/> while it is alive.</summary>
    public static void Steer(IAddressable grain, SiloAddress silo) => Targets[grain.GetGrainId()] = silo;

    internal sealed class Director : IPlacementDirector
    {
        public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
        {
            var silos = context.GetCompatibleSilos(target);
            if (Targets.TryGetValue(target.GrainIdentity, out var wanted) && silos.Contains(wanted)) return Task.FromResult(wanted);
            return Task.FromResult(silos[Random.Shared.Next(silos.Length)]);
        }
    }
}
