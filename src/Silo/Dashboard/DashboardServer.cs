using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// The silo's web console and HTTP API (rocketmq-dashboard's place): a small Kestrel application started beside
/// the silo, calling the grains through the silo's own grain factory. It is its own web host rather than the silo's
/// host turned into a web host, so the silo keeps its generic host (no file watchers, its logging filters) and
/// test clusters can add the console to their in-process silos the same way.
/// </summary>
public sealed class DashboardServer(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    ISiloStatusOracle membership,
    IOptions<DashboardOptions> options,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<DashboardServer>();
    private WebApplication? _app;
    private DashboardApi? _api;

    /// <summary>The console's address (<c>http://ip:port/</c>) once started; null while stopped or when it is off on this silo.</summary>
    public string? Url { get; private set; }

    /// <summary>Why the console is not served on this silo (its default port was taken), or null.</summary>
    public string? OffReason { get; private set; }

    /// <summary>Starts listening. A default port that is taken turns the console off with a warning; a chosen one fails the start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Port != 0 && !PortProbe.IsFree(settings.ListenAddress, settings.Port))
        {
            if (settings.PortGiven)
            {
                PortProbe.EnsureFree(settings.ListenAddress, settings.Port, "http");
            }
            OffReason = $"port {settings.Port} in use; pass --http-port";
            DashboardLog.DefaultPortTaken(_logger, settings.Port, settings.ListenAddress.ToString());
            return;
        }

        // An empty builder: no configuration files (so no watchers), no logging providers of its own (it logs through
        // the silo's, with the silo's filters), no console lifetime fighting the silo's over SIGTERM.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(settings.ListenAddress, settings.Port));
        builder.Services.AddRoutingCore();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.Replace(ServiceDescriptor.Singleton<IHostLifetime, EmbeddedLifetime>());
        MetricsEndpoint.AddServices(builder.Services);
        var app = builder.Build();
        _api = new DashboardApi(grains, silo, loggerFactory.CreateLogger<DashboardApi>(), () => Url);
        DashboardPages.Map(app);
        if (settings.Users is { } users)
        {
            ConsoleAuthentication.Use(app, users);
        }
        else if (!IPAddress.IsLoopback(settings.ListenAddress))
        {
            DashboardLog.OpenToNetwork(_logger, settings.ListenAddress.ToString(), settings.Port);
        }
        HealthEndpoints.Map(app, membership);
        MetricsEndpoint.Map(app);
        _api.Map(app);
        _app = app;
        await app.StartAsync(cancellationToken);
        var port = new Uri(app.Urls.First()).Port;
        Url = $"http://{new IPEndPoint(settings.AdvertisedAddress, port)}/";
    }

    /// <summary>Stops listening (requests in flight get the host's shutdown time to finish).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Url = null;
        if (_app is { } app)
        {
            _app = null;
            await app.DisposeAsync();
        }
        if (_api is { } api)
        {
            _api = null;
            await api.DisposeAsync();
        }
    }

    /// <summary>The silo's host owns the process lifetime (Ctrl-C, SIGTERM); the console's host only follows it.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>Adds the web console to a silo.</summary>
public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// Serves the web console and HTTP API from this silo. Register it after <c>UseOrleans</c>, so it starts once the
    /// silo has joined the cluster and stops before the silo does.
    /// </summary>
    public static IServiceCollection AddOrleansMQDashboard(this IServiceCollection services, Action<DashboardOptions> configure)
    {
        services.AddOptions<DashboardOptions>()
            .Configure(configure)
            .Validate(o => o.HasValidPort, "the web console's port must be 0 to 65535 (--http-port)")
            .ValidateOnStart();
        services.AddSingleton<DashboardServer>();
        services.AddHostedService(sp => sp.GetRequiredService<DashboardServer>());
        return services;
    }
}
