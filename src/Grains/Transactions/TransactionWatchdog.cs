using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Grains.Hosting;
using OrleansMQ.Transactions;

namespace OrleansMQ.Grains.Transactions;

/// <summary>
/// Wakes the coordinator of every producer group with unresolved (pending or committing) transactions when the silo
/// becomes active and every <see cref="BrokerOptions.ScheduleWakeInterval"/> after, as the schedules' watchdog does.
/// A coordinator's timer dies with its activation: without this, a group whose producers are all gone would never be
/// checked back (nor its transactions discarded) after a silo restart. Waking is idempotent.
/// </summary>
internal sealed class TransactionWatchdog(IGrainFactory grains, ITransactionStore store, IOptions<BrokerOptions> options, ILogger<TransactionWatchdog> logger)
    : SiloWatchdog(nameof(TransactionWatchdog), () => options.Value.ScheduleWakeInterval, logger)
{
    protected override async Task WakeAsync(CancellationToken cancellationToken)
    {
        var groups = await store.GroupsWithUnresolvedAsync(cancellationToken);
        await Task.WhenAll(groups.Select(g => grains.GetGrain<ITransactionCoordinatorGrain>(g).Wake()));
    }
}
