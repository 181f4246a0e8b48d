using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Delay;

namespace OrleansMQ.Grains.Delay;

/// <summary>
/// Wakes every delay level and timer schedule when the silo becomes active and every
/// <see cref="BrokerOptions.ScheduleWakeInterval"/> after. Grain timers die with their activation: when a silo
/// restarts or dies, a schedule with pending messages would otherwise sleep until someone sends to it. Waking
/// is idempotent (an active schedule ignores it; a new activation reloads its schedule from Postgres), so every
/// silo doing it is harmless and no reminder tables are needed.
/// </summary>
internal sealed partial class ScheduleWatchdog(IGrainFactory grains, IOptions<BrokerOptions> options, ILogger<ScheduleWatchdog> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ScheduleWatchdog), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync()
    {
        var interval = options.Value.ScheduleWakeInterval;
        do
        {
            try
            {
                var levels = Enumerable.Range(1, options.Value.DelayTable.Count).Select(l => grains.GetGrain<IDelayLevelGrain>(l).Wake());
                var timers = Enumerable.Range(0, ScheduleTopics.TimerQueues).Select(q => grains.GetGrain<ITimerGrain>(q).Wake());
                await Task.WhenAll(levels.Concat(timers)).WaitAsync(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogWakeFailed(e);
            }
            try
            {
                await Task.Delay(interval, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (true);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking the delay and timer schedules failed; trying again at the next interval")]
    private partial void LogWakeFailed(Exception exception);
}
