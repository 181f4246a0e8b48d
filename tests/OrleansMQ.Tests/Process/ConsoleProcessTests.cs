using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Process;

/// <summary>The web console of a silo started with <c>./orleansmq up</c>, and what a second silo on the same machine does with its port.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ConsoleProcessTests(SiloProcessFixture fixture)
{
    private const int DefaultHttpPort = 8080;

    [Fact]
    public async Task The_silo_serves_its_console_names_it_in_the_ready_line_and_its_API_changes_what_the_CLI_sees()
    {
        var url = fixture.Silo.ConsoleUrl!;
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        Assert.EndsWith($", console {url}", fixture.Silo.ReadyLine, StringComparison.Ordinal);

        var page = await http.GetStringAsync("/");
        var cluster = await http.GetFromJsonAsync<JsonElement>("/api/cluster");
        var topic = UniqueName("console-proc");
        var created = await http.PostAsJsonAsync("/api/topics", new { name = topic, queues = 2 });
        var list = await fixture.CliAsync("topic", "list");

        Assert.Contains("<title>OrleansMQ console</title>", page);
        var self = Assert.Single(cluster.GetProperty("silos").EnumerateArray(), s => s.GetProperty("self").GetBoolean());
        Assert.Equal(fixture.Silo.Gateway, self.GetProperty("gateway").GetString());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(list.StdoutLines, l => l.Contains(topic, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_silo_given_an_http_port_that_is_taken_fails_at_once_naming_the_switch()
    {
        var taken = fixture.Silo.HttpPort!.Value.ToString(CultureInfo.InvariantCulture);

        var up = await ProcessRunner.LauncherAsync(TimeSpan.FromMinutes(3),
            "up", "--postgres", fixture.Database.ConnectionString, "--silo-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture),
            "--gateway-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture), "--http-port", taken);

        Assert.NotEqual(0, up.ExitCode);
        Assert.Contains(up.StderrLines, l => l.Contains("--http-port", StringComparison.Ordinal) && l.Contains(taken, StringComparison.Ordinal));
        Assert.DoesNotContain(up.StdoutLines, l => l.StartsWith("OrleansMQ silo ready", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_silo_left_to_the_default_port_runs_without_a_console_when_that_port_is_taken()
    {
        // Holds the default port when nobody does, as the first silo of `./orleansmq up` would.
        using var holder = TryListen(DefaultHttpPort);
        await using var second = await SiloProcess.StartAsync(fixture.Database.ConnectionString, giveHttpPort: false);

        Assert.Contains($"console off (port {DefaultHttpPort} in use; pass --http-port)", second.ReadyLine);
        Assert.Contains("Web console is off on this silo", second.LogTail(200));
        Assert.True(second.IsRunning);
    }

    [Fact]
    public async Task A_silo_given_a_users_file_asks_for_a_login_and_lets_only_its_admins_change_things()
    {
        var users = Path.Combine(Path.GetTempPath(), $"orleansmq-users-{Guid.NewGuid():N}.properties");
        await File.WriteAllLinesAsync(users, ["# rocketmq-dashboard's format", "ops=s3cret,1", "viewer=look"]);
        try
        {
            await using var silo = await SiloProcess.StartAsync(fixture.Database.ConnectionString, giveHttpPort: true, "--console-users", users);
            using var anonymous = new HttpClient { BaseAddress = silo.ConsoleUrl, Timeout = TimeSpan.FromSeconds(60) };
            using var viewer = LoggedIn(silo.ConsoleUrl!, "viewer:look");
            using var ops = LoggedIn(silo.ConsoleUrl!, "ops:s3cret");
            var topic = UniqueName("console-login");

            var page = await anonymous.GetAsync("/");
            var probe = await anonymous.GetAsync("/readyz");
            var metrics = await anonymous.GetAsync("/metrics");
            var read = await viewer.GetAsync("/api/topics");
            var refused = await viewer.PostAsJsonAsync("/api/topics", new { name = topic, queues = 2 });
            var created = await ops.PostAsJsonAsync("/api/topics", new { name = topic, queues = 2 });

            Assert.Contains("(login: 2 user(s))", silo.ReadyLine);
            Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
            Assert.StartsWith("Basic realm=", page.Headers.WwwAuthenticate.ToString());
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Contains("Console (ops): created topic", silo.LogTail(400));
        }
        finally
        {
            File.Delete(users);
        }
    }

    [Fact]
    public async Task A_users_file_with_a_bad_line_stops_the_silo_at_once_naming_the_line()
    {
        var users = Path.Combine(Path.GetTempPath(), $"orleansmq-users-{Guid.NewGuid():N}.properties");
        await File.WriteAllLinesAsync(users, ["ops=s3cret,1", "viewer="]);
        try
        {
            var up = await ProcessRunner.LauncherAsync(TimeSpan.FromMinutes(3),
                "up", "--postgres", fixture.Database.ConnectionString, "--silo-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture),
                "--gateway-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture), "--http-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture),
                "--console-users", users);

            Assert.NotEqual(0, up.ExitCode);
            Assert.Contains(up.StderrLines, l => l.Contains("line 2 gives user 'viewer' an empty password", StringComparison.Ordinal));
            Assert.DoesNotContain(up.StdoutLines, l => l.StartsWith("OrleansMQ silo ready", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(users);
        }
    }

    private static HttpClient LoggedIn(Uri url, string credentials) => new()
    {
        BaseAddress = url,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials))) },
    };

    private static TcpListener? TryListen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return listener;
        }
        catch (SocketException)
        {
            listener.Dispose();
            return null;
        }
    }
}
