using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansMQ.Client.Hosting;

/// <summary>Where hosted producers and consumers get the grain factory they call the broker through.</summary>
internal interface IBrokerGrainSource
{
    /// <summary>The grain factory; throws <see cref="MQException"/> (BrokerUnavailable) while it cannot be used yet.</summary>
    IGrainFactory Grains { get; }
}

/// <summary>The application's own Orleans client (<c>UseOrleansClient(c => c.AddOrleansMQ())</c>).</summary>
internal sealed class ApplicationClientGrainSource(IGrainFactory grains) : IBrokerGrainSource
{
    public IGrainFactory Grains => grains;
}

/// <summary>
/// A connection of OrleansMQ's own (<c>AddOrleansMQClient</c>), made when the host starts and closed when it stops.
/// Hosted services stop in reverse order of registration, so consumers registered after it stop before it closes.
/// </summary>
internal sealed class HostedConnection(IOptions<OrleansMQConnectionOptions> options, ILoggerFactory loggerFactory) : IBrokerGrainSource, IHostedService
{
    private OrleansMQConnection? _connection;

    public IGrainFactory Grains => _connection?.Grains ?? throw new MQException(MQErrorCode.BrokerUnavailable,
        "OrleansMQ is not connected: the host has not started yet (or has stopped); use the producer once the host runs");

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _connection = await OrleansMQConnection.ConnectAsync(options.Value, loggerFactory, cancellationToken).ConfigureAwait(false);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
