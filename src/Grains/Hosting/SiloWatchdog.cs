using Microsoft.Extensions.Logging;

namespace OrleansMQ.Grains.Hosting;

/// <summary>
/// A silo-wide loop that wakes grains whose timers died with their activation (a silo restarted or died): once when the
/// silo becomes active, then every <paramref name="interval"/>, until the silo stops. A failed round is logged and the
/// next one tries again. Waking must be idempotent, since every silo runs the same loop.
/// </summary>
internal abstract class SiloWatchdog(string name, Func<TimeSpan> interval, ILogger logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(name, ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>One round: wake whatever needs it.</summary>
    protected abstract Task WakeAsync(CancellationToken cancellationToken);

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
        do
        {
            try
            {
                await WakeAsync(_stopping.Token).WaitAsync(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                WatchdogLog.WakeFailed(logger, e, name);
            }
            try
            {
                await Task.Delay(interval(), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (true);
    }
}

internal static partial class WatchdogLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Watchdog}: waking failed; trying again at the next interval")]
    public static partial void WakeFailed(ILogger logger, Exception exception, string watchdog);
}
