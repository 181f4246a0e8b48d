using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Delay;
using OrleansMQ.Grains.Hosting;

namespace OrleansMQ.Grains.Delay;

/// <summary>
/// Wakes every delay level and timer schedule when the silo becomes active and every
/// <see cref="BrokerOptions.ScheduleWakeInterval"/> after. Grain timers die with their activation: when a silo
/// restarts or dies, a schedule with pending messages would otherwise sleep until someone sends to it. Waking
/// is idempotent (an active schedule ignores it; a new activation reloads its schedule from Postgres), so every
/// silo doing it is harmless and no reminder tables are needed.
/// </summary>
internal sealed class ScheduleWatchdog(IGrainFactory grains, IOptions<BrokerOptions> options, ILogger<ScheduleWatchdog> logger)
    : SiloWatchdog(nameof(ScheduleWatchdog), () => options.Value.ScheduleWakeInterval, logger)
{
    protected override Task WakeAsync(CancellationToken cancellationToken)
    {
        var levels = Enumerable.Range(1, options.Value.DelayTable.Count).Select(l => grains.GetGrain<IDelayLevelGrain>(l).Wake());
        var timers = Enumerable.Range(0, ScheduleTopics.TimerQueues).Select(q => grains.GetGrain<ITimerGrain>(q).Wake());
        return Task.WhenAll(levels.Concat(timers));
    }
}
