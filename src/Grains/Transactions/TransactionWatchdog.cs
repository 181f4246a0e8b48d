using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Transactions;

namespace OrleansMQ.Grains.Transactions;

/// <summary>
/// Wakes the coordinator of every producer group with unresolved (pending or committing) transactions when the silo
/// becomes active and every <see cref="BrokerOptions.ScheduleWakeInterval"/> after, as the <c>ScheduleWatchdog</c> does
/// for the schedules. A coordinator's timer dies with its activation: without this, a group whose producers are all
/// gone would never be checked back (nor its transactions discarded) after a silo restart. Waking is idempotent.
/// </summary>
internal sealed partial class TransactionWatchdog(IGrainFactory grains, ITransactionStore store, IOptions<BrokerOptions> options, ILogger<TransactionWatchdog> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(TransactionWatchdog), ServiceLifecycleStage.Active, StartAsync, StopAsync);

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
                var groups = await store.GroupsWithUnresolvedAsync(_stopping.Token);
                await Task.WhenAll(groups.Select(g => grains.GetGrain<ITransactionCoordinatorGrain>(g).Wake())).WaitAsync(_stopping.Token);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking the transaction coordinators failed; trying again at the next interval")]
    private partial void LogWakeFailed(Exception exception);
}
