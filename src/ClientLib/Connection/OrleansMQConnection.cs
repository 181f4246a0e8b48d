using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Serialization;
using OrleansMQ.Queues;

namespace OrleansMQ.Client;

/// <summary>
/// A connection to an OrleansMQ broker: an Orleans client host of its own, connected to the silo
/// gateways. Producers, consumers and the admin client only need its <see cref="Grains"/>; applications
/// that already run an Orleans client pass their own <see cref="IGrainFactory"/> to them instead.
/// </summary>
/// <example>
/// <code>
/// await using var connection = await OrleansMQConnection.ConnectAsync("127.0.0.1:30000");
/// await using var producer = connection.CreateProducer();
/// var result = await producer.SendAsync(new Message("orders", "hello"));
/// </code>
/// </example>
public sealed class OrleansMQConnection : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly IHost _host;
    private readonly ILogger _logger;
    private int _disposed;

    private OrleansMQConnection(IHost host, string gateways, ILoggerFactory loggerFactory, ILogger logger)
    {
        _host = host;
        _logger = logger;
        Gateways = gateways;
        LoggerFactory = loggerFactory;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>The gateways this connection was made to.</summary>
    public string Gateways { get; }

    /// <summary>The Orleans client.</summary>
    public IClusterClient Client { get; }

    /// <summary>The grain factory producers, consumers and the admin client call the broker through.</summary>
    public IGrainFactory Grains => Client;

    /// <summary>The logger factory given to <c>ConnectAsync</c> (a null factory when none was given); the <c>Create…</c> methods pass it on.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>
    /// Connects to the broker's gateways (comma-separated <c>host:port</c>), with the default cluster and
    /// service id <c>orleansmq</c>, retrying for up to 10 s.
    /// </summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidArgument"/> for a malformed gateway list;
    /// <see cref="MQErrorCode.BrokerUnavailable"/> when no gateway answered in time.</exception>
    public static Task<OrleansMQConnection> ConnectAsync(
        string gateways = OrleansMQConnectionOptions.DefaultGateways,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default) =>
        ConnectAsync(new OrleansMQConnectionOptions { Gateways = gateways }, loggerFactory, cancellationToken);

    /// <summary>Connects to the broker as <paramref name="options"/> say.</summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidArgument"/> for malformed options;
    /// <see cref="MQErrorCode.BrokerUnavailable"/> when no gateway answered within <see cref="OrleansMQConnectionOptions.ConnectTimeout"/>.</exception>
    public static async Task<OrleansMQConnection> ConnectAsync(
        OrleansMQConnectionOptions options,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Resolved once here only to fail early, with a clear error, on a name that does not resolve.
        await GatewayList.ResolveAsync(options.Gateways, cancellationToken).ConfigureAwait(false);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<OrleansMQConnection>();
        var gateways = options.Gateways;
        var timeout = options.ConnectTimeout;
        var started = Stopwatch.StartNew();
        var attempts = 0;

        var host = new HostBuilder()
            .ConfigureServices(services =>
            {
                services.AddSingleton(loggerFactory);
                // The default console lifetime would take over Ctrl+C and SIGTERM from the application.
                services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
            })
            .UseOrleansClient(client =>
            {
                // Names are resolved again on every gateway-list refresh, so a client follows silos whose addresses change.
                client.Services.AddSingleton<IGatewayListProvider>(sp =>
                    new DnsGatewayListProvider(options.Gateways, sp.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod));
                client.Configure<ClusterOptions>(cluster =>
                {
                    cluster.ClusterId = options.ClusterId;
                    cluster.ServiceId = options.ServiceId;
                });
                client.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(IQueueGrain).Assembly));
                client.UseConnectionRetryFilter(async (exception, token) =>
                {
                    var remaining = timeout - started.Elapsed;
                    if (remaining <= TimeSpan.Zero)
                    {
                        return false;
                    }
                    logger.ConnectAttemptFailed(++attempts, gateways, exception.Message, remaining);
                    await Task.Delay(remaining < RetryDelay ? remaining : RetryDelay, token).ConfigureAwait(false);
                    return true;
                });
            })
            .Build();

        logger.Connecting(gateways, options.ClusterId);
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The retry filter gives up at the deadline; this also bounds a single attempt that hangs (a black-holed address).
        connectTimeout.CancelAfter(timeout + RetryDelay);
        try
        {
            await host.StartAsync(connectTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await DisposeHostAsync(host, logger).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            logger.ConnectFailed(ex, gateways);
            throw new MQException(MQErrorCode.BrokerUnavailable,
                $"cannot reach the broker at {gateways} within {timeout.TotalSeconds:0.#} s ({Unwrap(ex).Message}); " +
                $"check that the silo is running, that its gateway listens there, and that its cluster id is '{options.ClusterId}'", ex);
        }
        logger.Connected(gateways);
        return new OrleansMQConnection(host, gateways, loggerFactory, logger);
    }

    /// <summary>A producer sending through this connection.</summary>
    public Producer CreateProducer(ProducerOptions? options = null) => new(Grains, options, LoggerFactory);

    /// <summary>A transaction producer sending through this connection (<paramref name="options"/> must name a producer group).</summary>
    public TransactionProducer CreateTransactionProducer(ProducerOptions options, ITransactionListener listener) => new(Grains, options, listener, LoggerFactory);

    /// <summary>A push consumer receiving through this connection.</summary>
    public PushConsumer CreatePushConsumer(PushConsumerOptions options) => new(Grains, options, LoggerFactory);

    /// <summary>A pull consumer receiving through this connection.</summary>
    public PullConsumer CreatePullConsumer(PullConsumerOptions options) => new(Grains, options, LoggerFactory);

    /// <summary>An admin client for topics and groups.</summary>
    public AdminClient CreateAdminClient() => new(Grains);

    /// <summary>Closes the connection. Dispose producers and consumers first, so they can flush and unregister.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await DisposeHostAsync(_host, _logger).ConfigureAwait(false);
    }

    private static async Task DisposeHostAsync(IHost host, ILogger logger)
    {
        try
        {
            using var stop = new CancellationTokenSource(StopTimeout);
            await host.StopAsync(stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.StopFailed(ex);
        }
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            host.Dispose();
        }
    }

    private static Exception Unwrap(Exception exception) =>
        exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : exception;

    /// <summary>A host lifetime that leaves process signals to the application that embeds the connection.</summary>
    private sealed class PassiveHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
