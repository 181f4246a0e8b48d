using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace OrleansMQ.Silo;

/// <summary>A silo setting that cannot be used; the silo prints its message and exits.</summary>
public sealed class SiloSettingsException(string message) : Exception(message);

/// <summary>
/// The silo's command line and environment, read through Microsoft.Extensions.Configuration:
/// <c>--postgres</c>, <c>--silo-port</c>, <c>--gateway-port</c>, <c>--cluster-id</c>,
/// <c>--advertised-ip</c>, <c>--listen-any</c>, <c>--http-port</c>, <c>--auto-create-topics</c>, <c>--environment</c>, and any
/// <c>--OrleansMQ:Setting=value</c> of <see cref="Grains.BrokerOptions"/>. Each switch can also come from its environment
/// variable (ORLEANSMQ_POSTGRES, ORLEANSMQ_SILO_PORT, …; the command line wins), and each broker option from
/// OrleansMQ__Setting.
/// </summary>
public sealed record SiloSettings(
    string Postgres,
    int SiloPort,
    int GatewayPort,
    string ClusterId,
    IPAddress AdvertisedIp,
    bool ListenOnAnyAddress,
    bool AutoCreateTopics,
    string Environment,
    IReadOnlyDictionary<string, string?> BrokerSettings)
{
    /// <summary>The web console's default port, as rocketmq-dashboard's.</summary>
    public const int DefaultHttpPort = 8080;

    /// <summary>The web console and HTTP API port; 0 turns the console off.</summary>
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>
    /// Whether <c>--http-port</c> was given. A port given explicitly must be free (the silo fails like for its other
    /// ports); the default one may be taken by the first silo on the machine, and then this silo runs without a console.
    /// </summary>
    public bool HttpPortGiven { get; init; }

    /// <summary>
    /// The console's users file (<c>--console-users</c> or ORLEANSMQ_CONSOLE_USERS), in rocketmq-dashboard's users.properties
    /// format; null leaves the console without a login.
    /// </summary>
    public string? ConsoleUsersFile { get; init; }

    private static readonly Dictionary<string, string> Switches = new(StringComparer.OrdinalIgnoreCase)
    {
        ["--postgres"] = "postgres",
        ["--silo-port"] = "silo-port",
        ["--gateway-port"] = "gateway-port",
        ["--cluster-id"] = "cluster-id",
        ["--advertised-ip"] = "advertised-ip",
        ["--listen-any"] = "listen-any",
        ["--http-port"] = "http-port",
        ["--auto-create-topics"] = "auto-create-topics",
        ["--environment"] = "environment",
        ["--console-users"] = "console-users",
    };

    public static SiloSettings Parse(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            throw new SiloSettingsException(
                "usage: orleansmq-silo --postgres <npgsql connection string> [--silo-port 11111] [--gateway-port 30000] " +
                "[--cluster-id orleansmq] [--advertised-ip 127.0.0.1] [--listen-any true] [--http-port 8080 (0: no web console)] [--console-users <users file>] [--auto-create-topics true|false] " +
                "[--environment Development|Production] [--OrleansMQ:<BrokerOption>=<value>]");
        }
        IConfiguration config;
        try
        {
            config = new ConfigurationBuilder()
                .AddEnvironmentVariables()
                .AddCommandLine(NormalizeFlags(args), Switches)
                .Build();
        }
        catch (FormatException e)
        {
            throw new SiloSettingsException($"cannot read the command line: {e.Message}");
        }
        var postgres = Setting(config, "postgres") ?? config["OrleansMQ:Postgres"];
        if (string.IsNullOrWhiteSpace(postgres))
        {
            throw new SiloSettingsException("no store configured: pass --postgres '<npgsql connection string>' or set ORLEANSMQ_POSTGRES (./orleansmq up starts a private Postgres for you)");
        }
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(postgres);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Checked here so a typo is one line, not an unhandled exception from the first connection.
            throw new SiloSettingsException($"--postgres is not an Npgsql connection string ({e.Message}); e.g. 'Host=127.0.0.1;Port=5432;Username=orleansmq;Password=…;Database=orleansmq'");
        }
        var environment = Setting(config, "environment") ?? "Development";
        // Auto-creation is a development convenience; production profiles turn it off unless asked.
        var autoCreateDefault = !environment.Equals("Production", StringComparison.OrdinalIgnoreCase);
        var broker = config.GetSection("OrleansMQ").AsEnumerable(makePathsRelative: true)
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        return new SiloSettings(
            Postgres: postgres,
            SiloPort: Port(config, "silo-port", 11111),
            GatewayPort: Port(config, "gateway-port", 30000),
            ClusterId: Setting(config, "cluster-id") ?? "orleansmq",
            AdvertisedIp: Ip(Setting(config, "advertised-ip") ?? "127.0.0.1"),
            ListenOnAnyAddress: Bool(config, "listen-any", false),
            AutoCreateTopics: Bool(config, "auto-create-topics", autoCreateDefault),
            Environment: environment,
            BrokerSettings: broker)
        {
            HttpPort = Port(config, "http-port", DefaultHttpPort, allowZero: true),
            HttpPortGiven = Setting(config, "http-port") is not null,
            ConsoleUsersFile = NonEmpty(Setting(config, "console-users")),
        };
    }

    /// <summary>The broker options as configuration keys under "OrleansMQ".</summary>
    public IEnumerable<KeyValuePair<string, string?>> ToConfiguration()
    {
        foreach (var (key, value) in BrokerSettings)
        {
            yield return new($"OrleansMQ:{key}", value);
        }
        yield return new("OrleansMQ:Postgres", Postgres);
        yield return new("OrleansMQ:AutoCreateTopics", AutoCreateTopics ? "true" : "false");
    }

    /// <summary>A bare flag such as <c>--listen-any</c> means true.</summary>
    private static string[] NormalizeFlags(string[] args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            result.Add(args[i]);
            var isBareFlag = args[i] is "--listen-any" && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal));
            if (isBareFlag) result.Add("true");
        }
        return [.. result];
    }

    /// <summary>
    /// A switch's value: from the command line, else from its environment variable (ORLEANSMQ_ and the switch's name in
    /// capitals with '_' for '-', e.g. ORLEANSMQ_SILO_PORT), which is what a container is usually given.
    /// </summary>
    private static string? Setting(IConfiguration config, string key) =>
        config[key] ?? config[EnvironmentName(key)];

    /// <summary>The environment variable of a switch: <c>silo-port</c> → <c>ORLEANSMQ_SILO_PORT</c>.</summary>
    public static string EnvironmentName(string key) => "ORLEANSMQ_" + key.ToUpperInvariant().Replace('-', '_');

    private static int Port(IConfiguration config, string key, int fallback, bool allowZero = false)
    {
        var text = Setting(config, key);
        if (text is null) return fallback;
        var lowest = allowZero ? 0 : 1;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port < lowest || port > 65535)
        {
            throw new SiloSettingsException(allowZero
                ? $"--{key} '{text}' is not a port number (1 to 65535, or 0 to turn it off)"
                : $"--{key} '{text}' is not a port number (1 to 65535)");
        }
        return port;
    }

    private static bool Bool(IConfiguration config, string key, bool fallback)
    {
        var text = Setting(config, key);
        if (text is null) return fallback;
        return bool.TryParse(text, out var value) ? value : throw new SiloSettingsException($"--{key} '{text}' must be true or false");
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static IPAddress Ip(string text) =>
        IPAddress.TryParse(text, out var ip) ? ip : throw new SiloSettingsException($"--advertised-ip '{text}' is not an IP address");
}
