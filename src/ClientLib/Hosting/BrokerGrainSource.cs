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
internal sealed class HostedConnection : IBrokerGrainSource, IHostedService
{
    private readonly IOptions<OrleansMQConnectionOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private OrleansMQConnection? _connection;

    public HostedConnection(IOptions<OrleansMQConnectionOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        Grains = new DeferredGrainFactory(() => _connection?.Grains);
    }

    /// <summary>
    /// Usable before the host starts, so a producer can be injected into any service, a hosted one included (the host
    /// builds every hosted service before it starts the first). Calls fail with BrokerUnavailable until it has started.
    /// </summary>
    public IGrainFactory Grains { get; }

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _connection = await OrleansMQConnection.ConnectAsync(_options.Value, _loggerFactory, cancellationToken).ConfigureAwait(false);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// A grain factory that hands every call to the connection's factory at the time of the call. Grain references it
/// returns are the connection's own, so they stay valid for as long as that connection lives.
/// </summary>
internal sealed class DeferredGrainFactory(Func<IGrainFactory?> current) : IGrainFactory
{
    private IGrainFactory Current => current() ?? throw new MQException(MQErrorCode.BrokerUnavailable,
        "OrleansMQ is not connected: the host has not started yet (or has stopped); use producers and consumers while the host runs");

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithGuidKey => Current.GetGrain<TGrainInterface>(primaryKey, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithIntegerKey => Current.GetGrain<TGrainInterface>(primaryKey, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithStringKey => Current.GetGrain<TGrainInterface>(primaryKey, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string keyExtension, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithGuidCompoundKey => Current.GetGrain<TGrainInterface>(primaryKey, keyExtension, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string keyExtension, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithIntegerCompoundKey => Current.GetGrain<TGrainInterface>(primaryKey, keyExtension, grainClassNamePrefix);

    public TGrainObserverInterface CreateObjectReference<TGrainObserverInterface>(IGrainObserver obj)
        where TGrainObserverInterface : IGrainObserver => Current.CreateObjectReference<TGrainObserverInterface>(obj);

    /// <summary>Without a connection there is nothing to delete: object references die with the connection that made them.</summary>
    public void DeleteObjectReference<TGrainObserverInterface>(IGrainObserver obj)
        where TGrainObserverInterface : IGrainObserver => current()?.DeleteObjectReference<TGrainObserverInterface>(obj);

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey) => Current.GetGrain(grainInterfaceType, grainPrimaryKey);

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey) => Current.GetGrain(grainInterfaceType, grainPrimaryKey);

    public IGrain GetGrain(Type grainInterfaceType, string grainPrimaryKey) => Current.GetGrain(grainInterfaceType, grainPrimaryKey);

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey, string keyExtension) =>
        Current.GetGrain(grainInterfaceType, grainPrimaryKey, keyExtension);

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey, string keyExtension) =>
        Current.GetGrain(grainInterfaceType, grainPrimaryKey, keyExtension);

    public IAddressable GetGrain(Type grainInterfaceType, IdSpan grainKey) => Current.GetGrain(grainInterfaceType, grainKey);

    public IAddressable GetGrain(Type grainInterfaceType, IdSpan grainKey, string grainClassNamePrefix) =>
        Current.GetGrain(grainInterfaceType, grainKey, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId) where TGrainInterface : IAddressable => Current.GetGrain<TGrainInterface>(grainId);

    public IAddressable GetGrain(GrainId grainId) => Current.GetGrain(grainId);

    public IAddressable GetGrain(GrainId grainId, GrainInterfaceType interfaceType) => Current.GetGrain(grainId, interfaceType);
}
