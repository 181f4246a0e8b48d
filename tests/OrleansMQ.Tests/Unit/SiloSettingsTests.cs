using System.Net;
using OrleansMQ.Silo;

namespace OrleansMQ.Tests.Unit;

/// <summary>
/// SiloSettings.Parse also reads environment variables (ORLEANSMQ_POSTGRES), so these tests run alone
/// and hide that variable while they run.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

[Collection(ProcessEnvironmentCollection.Name)]
public sealed class SiloSettingsTests : IDisposable
{
    private const string Conn = "Host=db;Username=u;Database=d";
    private static readonly string[] Hidden =
    [
        "ORLEANSMQ_POSTGRES", "postgres", "OrleansMQ__Postgres", "ORLEANSMQ_CONSOLE_USERS", "ORLEANSMQ_SILO_PORT", "ORLEANSMQ_GATEWAY_PORT",
        "ORLEANSMQ_ADVERTISED_IP", "ORLEANSMQ_LISTEN_ANY", "ORLEANSMQ_AUTO_CREATE_TOPICS", "ORLEANSMQ_ENVIRONMENT", "ORLEANSMQ_CLUSTER_ID", "ORLEANSMQ_HTTP_PORT",
    ];
    private readonly Dictionary<string, string?> _saved = Hidden.ToDictionary(n => n, Environment.GetEnvironmentVariable);

    public SiloSettingsTests()
    {
        foreach (var name in Hidden) Environment.SetEnvironmentVariable(name, null);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }

    [Fact]
    public void Every_switch_can_come_from_its_environment_variable_and_the_command_line_wins()
    {
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["ORLEANSMQ_POSTGRES"] = Conn, ["ORLEANSMQ_SILO_PORT"] = "11200", ["ORLEANSMQ_GATEWAY_PORT"] = "30200", ["ORLEANSMQ_ADVERTISED_IP"] = "10.0.0.9",
            ["ORLEANSMQ_LISTEN_ANY"] = "true", ["ORLEANSMQ_ENVIRONMENT"] = "Production", ["ORLEANSMQ_CLUSTER_ID"] = "prod", ["ORLEANSMQ_HTTP_PORT"] = "0",
        })
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        var fromEnvironment = SiloSettings.Parse([]);
        var overridden = SiloSettings.Parse(["--silo-port", "11300", "--cluster-id", "dev"]);
        Environment.SetEnvironmentVariable("ORLEANSMQ_GATEWAY_PORT", "not-a-port");
        var bad = Assert.Throws<SiloSettingsException>(() => SiloSettings.Parse([]));

        Assert.Equal((Conn, 11200, 30200, "prod", IPAddress.Parse("10.0.0.9"), true, "Production", false, 0, true),
            (fromEnvironment.Postgres, fromEnvironment.SiloPort, fromEnvironment.GatewayPort, fromEnvironment.ClusterId, fromEnvironment.AdvertisedIp,
             fromEnvironment.ListenOnAnyAddress, fromEnvironment.Environment, fromEnvironment.AutoCreateTopics, fromEnvironment.HttpPort, fromEnvironment.HttpPortGiven));
        Assert.Equal((11300, "dev"), (overridden.SiloPort, overridden.ClusterId));
        Assert.Contains("'not-a-port' is not a port number", bad.Message);
        Assert.Equal("ORLEANSMQ_AUTO_CREATE_TOPICS", SiloSettings.EnvironmentName("auto-create-topics"));
    }

    [Fact]
    public void The_console_users_file_comes_from_the_switch_or_the_environment_and_is_off_by_default()
    {
        var none = SiloSettings.Parse(["--postgres", Conn]);
        var given = SiloSettings.Parse(["--postgres", Conn, "--console-users", "/etc/orleansmq/users.properties"]);
        Environment.SetEnvironmentVariable("ORLEANSMQ_CONSOLE_USERS", "/run/secrets/users");
        var fromEnvironment = SiloSettings.Parse(["--postgres", Conn]);

        Assert.Null(none.ConsoleUsersFile);
        Assert.Equal("/etc/orleansmq/users.properties", given.ConsoleUsersFile);
        Assert.Equal("/run/secrets/users", fromEnvironment.ConsoleUsersFile);
    }

    [Fact]
    public void Defaults_apply_when_only_the_store_is_given()
    {
        var settings = SiloSettings.Parse(["--postgres", Conn]);

        Assert.Equal(Conn, settings.Postgres);
        Assert.Equal((11111, 30000, "orleansmq"), (settings.SiloPort, settings.GatewayPort, settings.ClusterId));
        Assert.Equal(IPAddress.Loopback, settings.AdvertisedIp);
        Assert.False(settings.ListenOnAnyAddress);
        Assert.Equal("Development", settings.Environment);
        Assert.True(settings.AutoCreateTopics);
        Assert.Empty(settings.BrokerSettings);
        Assert.Equal((8080, false), (settings.HttpPort, settings.HttpPortGiven));
    }

    [Theory]
    [InlineData("8180", 8180)]
    [InlineData("0", 0)]
    public void Http_port_is_read_and_zero_turns_the_console_off(string value, int expected)
    {
        var settings = SiloSettings.Parse(["--postgres", Conn, "--http-port", value]);

        Assert.Equal((expected, true), (settings.HttpPort, settings.HttpPortGiven));
    }

    [Fact]
    public void Every_switch_is_read()
    {
        var settings = SiloSettings.Parse([
            "--postgres", Conn, "--silo-port", "12000", "--gateway-port", "31000", "--cluster-id", "c2",
            "--advertised-ip", "10.0.0.5", "--listen-any", "--auto-create-topics", "false",
        ]);

        Assert.Equal((12000, 31000, "c2"), (settings.SiloPort, settings.GatewayPort, settings.ClusterId));
        Assert.Equal(IPAddress.Parse("10.0.0.5"), settings.AdvertisedIp);
        Assert.True(settings.ListenOnAnyAddress);
        Assert.False(settings.AutoCreateTopics);
    }

    [Fact]
    public void Bare_listen_any_before_another_switch_means_true()
    {
        var settings = SiloSettings.Parse(["--listen-any", "--postgres", Conn]);

        Assert.True(settings.ListenOnAnyAddress);
        Assert.Equal(Conn, settings.Postgres);
    }

    [Fact]
    public void Production_turns_auto_creation_off_unless_asked()
    {
        Assert.False(SiloSettings.Parse(["--postgres", Conn, "--environment", "Production"]).AutoCreateTopics);
        Assert.True(SiloSettings.Parse(["--postgres", Conn, "--environment", "Production", "--auto-create-topics", "true"]).AutoCreateTopics);
    }

    [Fact]
    public void Broker_options_pass_through_to_configuration()
    {
        var settings = SiloSettings.Parse(["--postgres", Conn, "--OrleansMQ:TailCacheMessages=64", "--OrleansMQ:OffsetFlushInterval", "00:00:01"]);

        Assert.Equal("64", settings.BrokerSettings["TailCacheMessages"]);
        var configuration = settings.ToConfiguration().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("64", configuration["OrleansMQ:TailCacheMessages"]);
        Assert.Equal("00:00:01", configuration["OrleansMQ:OffsetFlushInterval"]);
        Assert.Equal(Conn, configuration["OrleansMQ:Postgres"]);
        Assert.Equal("true", configuration["OrleansMQ:AutoCreateTopics"]);
    }

    [Fact]
    public void Store_may_come_from_ORLEANSMQ_POSTGRES()
    {
        Environment.SetEnvironmentVariable("ORLEANSMQ_POSTGRES", Conn);

        Assert.Equal(Conn, SiloSettings.Parse([]).Postgres);
    }

    [Fact]
    public void Missing_store_fails_with_a_hint()
    {
        var e = Assert.Throws<SiloSettingsException>(() => SiloSettings.Parse([]));

        Assert.Contains("--postgres", e.Message);
        Assert.Contains("ORLEANSMQ_POSTGRES", e.Message);
    }

    [Theory]
    [InlineData("--silo-port", "0")]
    [InlineData("--silo-port", "65536")]
    [InlineData("--gateway-port", "http")]
    [InlineData("--http-port", "65536")]
    [InlineData("--http-port", "-1")]
    [InlineData("--http-port", "web")]
    [InlineData("--advertised-ip", "not-an-ip")]
    [InlineData("--auto-create-topics", "maybe")]
    [InlineData("--listen-any", "yes")]
    public void Unusable_values_fail_naming_the_switch(string name, string value)
    {
        var e = Assert.Throws<SiloSettingsException>(() => SiloSettings.Parse(["--postgres", Conn, name, value]));

        Assert.Contains(name, e.Message);
        Assert.Contains(value, e.Message);
    }

    [Theory]
    [InlineData("notaconnstring")]
    [InlineData("Host=127.0.0.1;Port=abc")]
    public void A_malformed_connection_string_fails_naming_the_switch(string postgres)
    {
        var e = Assert.Throws<SiloSettingsException>(() => SiloSettings.Parse(["--postgres", postgres]));

        Assert.Contains("--postgres is not an Npgsql connection string", e.Message);
    }

    [Fact]
    public void Help_is_a_usage_message()
    {
        var e = Assert.Throws<SiloSettingsException>(() => SiloSettings.Parse(["--help"]));

        Assert.StartsWith("usage:", e.Message);
    }
}
