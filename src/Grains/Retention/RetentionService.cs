using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace OrleansMQ.Grains.Retention;

/// <summary>
/// Runs <see cref="RetentionSweeper"/> every <see cref="BrokerOptions.RetentionSweepInterval"/> while the silo
/// is active. Every silo runs this loop; a Postgres advisory lock lets one sweep at a time, so a cluster
/// of any size deletes each expired row once and never doubles the delete load.
/// </summary>
internal sealed partial class RetentionService(
    RetentionSweeper sweeper,
    NpgsqlDataSource dataSource,
    TimeProvider clock,
    IOptions<BrokerOptions> options,
    ILogger<RetentionService> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Advisory lock key of the sweep (the schema installer uses 7411001).</summary>
    internal const long SweepLockKey = 7411002;

    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RetentionService), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionSweepInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await SweepIfNoOtherSiloIsAsync(stopping);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    LogSweepFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task SweepIfNoOtherSiloIsAsync(CancellationToken stopping)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stopping);
        await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({SweepLockKey})", connection))
        {
            if (await tryLock.ExecuteScalarAsync(stopping) is not true)
            {
                return;
            }
        }
        try
        {
            await sweeper.SweepAsync(clock.GetUtcNow(), stopping);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({SweepLockKey})", connection);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention sweep failed; the next one runs at the next interval")]
    private partial void LogSweepFailed(Exception exception);
}
