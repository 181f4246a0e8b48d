using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansMQ;
using OrleansMQ.Grains;
using OrleansMQ.Grains.Hosting;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Silo;
using OrleansMQ.Silo.Dashboard;

// The broker host: one silo of an OrleansMQ cluster. Every silo started with the same Postgres
// connection string (and cluster id) joins the same cluster through Orleans ADO.NET membership.
try
{
    var settings = SiloSettings.Parse(args);
    var bindAddress = settings.ListenOnAnyAddress ? IPAddress.Any : settings.AdvertisedIp;
    PortProbe.EnsureFree(bindAddress, settings.SiloPort, "silo");
    PortProbe.EnsureFree(bindAddress, settings.GatewayPort, "gateway");
    if (settings.HttpPortGiven && settings.HttpPort != 0)
    {
        // Only a port the operator chose must be free; the default one may belong to the first silo on this machine.
        PortProbe.EnsureFree(bindAddress, settings.HttpPort, "http");
    }
    var consoleUsers = settings.ConsoleUsersFile is { } usersFile ? ConsoleUsers.Load(usersFile) : null;
    await SchemaInstaller.ApplyAsync(settings.Postgres,
        script => Console.Error.WriteLine($"orleansmq-silo: applying schema script {script} (building indexes on a large omq_message can take minutes)…"));

    // Content root is the binary's folder and config reload is off: with the defaults the host watches the
    // working directory recursively, which under ./orleansmq is the repository with Postgres' data directory in
    // it, and every WAL write woke the watcher (≈ 12 % of a core on an idle silo, more under load).
    var hostConfiguration = new ConfigurationManager();
    hostConfiguration.AddInMemoryCollection([new("hostBuilder:reloadConfigOnChange", "false")]);
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
    {
        Args = [],
        EnvironmentName = settings.Environment,
        ContentRootPath = AppContext.BaseDirectory,
        Configuration = hostConfiguration,
    });
    builder.Configuration.AddInMemoryCollection(settings.ToConfiguration());
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
    builder.Logging.AddFilter("Orleans", LogLevel.Warning);
    builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
    builder.Logging.AddFilter("Polly", LogLevel.Warning);
    // Filters match category prefixes, so "Orleans" above would silence "OrleansMQ" too.
    builder.Logging.AddFilter("OrleansMQ", LogLevel.Information);
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
    builder.UseOrleans(silo =>
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = "orleansmq";
        });
        silo.ConfigureEndpoints(settings.AdvertisedIp, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: settings.ListenOnAnyAddress);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = settings.Postgres;
        });
        silo.UseOrleansMQ(o => builder.Configuration.GetSection(BrokerOptions.SectionName).Bind(o));
    });
    if (settings.HttpPort != 0)
    {
        builder.Services.AddOrleansMQDashboard(o =>
        {
            o.ListenAddress = bindAddress;
            o.AdvertisedAddress = settings.AdvertisedIp;
            o.Port = settings.HttpPort;
            o.PortGiven = settings.HttpPortGiven;
            o.Users = consoleUsers;
        });
    }

    using var host = builder.Build();
    // Broker settings are checked before the host starts: a wrong value is then this program's one error line, not
    // also a "Hosting failed to start" log entry with the whole stack.
    _ = host.Services.GetRequiredService<IOptions<BrokerOptions>>().Value;
    await host.StartAsync();
    var dashboard = host.Services.GetService<DashboardServer>();
    var console = dashboard switch
    {
        null => "off (--http-port 0)",
        { Url: { } url } => consoleUsers is null ? url : $"{url} (login: {consoleUsers.Count} user(s))",
        _ => $"off ({dashboard.OffReason})",
    };
    Console.WriteLine(
        $"OrleansMQ silo ready: gateway {settings.AdvertisedIp}:{settings.GatewayPort}, silo {settings.AdvertisedIp}:{settings.SiloPort}, " +
        $"cluster '{settings.ClusterId}', store {SchemaInstaller.Describe(settings.Postgres)}, auto-create topics {(settings.AutoCreateTopics ? "on" : "off")}, " +
        $"console {console}");
    await host.WaitForShutdownAsync();
    return 0;
}
catch (Exception e) when (e is MQException or SiloSettingsException or Microsoft.Extensions.Options.OptionsValidationException)
{
    Console.Error.WriteLine($"orleansmq-silo: error: {e.Message}");
    return 1;
}
