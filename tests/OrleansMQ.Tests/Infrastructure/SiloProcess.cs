using System.Globalization;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A broker silo started the way a user starts one: <c>./orleansmq up --detach</c> from the repository root,
/// on free ports. Stopped by SIGTERM to its own pid (never <c>./orleansmq down</c>, which would stop every
/// detached silo of the repository, a developer's included).
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    /// <summary>Covers a first start that builds the silo (Release) before running it.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private SiloProcess(int siloPort, int gatewayPort, int? httpPort, int pid, string readyLine)
    {
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        Pid = pid;
        ReadyLine = readyLine;
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>The web console's port given with <c>--http-port</c>, or null when the silo was left to its default.</summary>
    public int? HttpPort { get; }

    /// <summary>The console's address, when a port was given.</summary>
    public Uri? ConsoleUrl => HttpPort is { } port ? new Uri($"http://127.0.0.1:{port}/") : null;

    /// <summary>The silo's process id (from <c>.orleansmq/silo-&lt;gateway port&gt;.pid</c>).</summary>
    public int Pid { get; }

    /// <summary>The <c>OrleansMQ silo ready: …</c> line <c>up</c> printed.</summary>
    public string ReadyLine { get; }

    /// <summary>The gateway as the CLI's <c>--gateway</c> takes it.</summary>
    public string Gateway => $"127.0.0.1:{GatewayPort}";

    public bool IsRunning => ProcessRunner.IsAlive(Pid);

    private static string StateFile(int gatewayPort, string extension) =>
        Path.Combine(ProcessRunner.RepositoryRoot, ".orleansmq", $"silo-{gatewayPort}.{extension}");

    /// <summary>The end of the silo's log (for failure messages).</summary>
    public string LogTail(int lines = 40)
    {
        var path = StateFile(GatewayPort, "log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no log)";
    }

    /// <summary>
    /// Runs <c>./orleansmq up --detach</c> against <paramref name="postgres"/>; returns once it printed that the silo is ready.
    /// The console gets a free port too, unless <paramref name="giveHttpPort"/> is false (the silo then tries its default).
    /// <paramref name="settings"/> are passed on to the silo.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string postgres, bool giveHttpPort = true, params string[] settings)
    {
        var siloPort = ProcessRunner.FreePort();
        var gatewayPort = ProcessRunner.FreePort();
        int? httpPort = giveHttpPort ? ProcessRunner.FreePort() : null;
        string[] http = httpPort is { } port ? ["--http-port", port.ToString(CultureInfo.InvariantCulture)] : [];
        var up = await ProcessRunner.LauncherAsync(StartTimeout,
            ["up", "--detach", "--postgres", postgres, "--silo-port", siloPort.ToString(CultureInfo.InvariantCulture),
            "--gateway-port", gatewayPort.ToString(CultureInfo.InvariantCulture), .. http, .. settings]);
        var ready = up.StdoutLines.FirstOrDefault(l => l.StartsWith("OrleansMQ silo ready", StringComparison.Ordinal));
        var pidFile = StateFile(gatewayPort, "pid");
        if (up.ExitCode != 0 || ready is null || !File.Exists(pidFile))
        {
            throw new InvalidOperationException($"the silo did not start: {up}");
        }
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        return new SiloProcess(siloPort, gatewayPort, httpPort, pid, ready);
    }

    /// <summary>Stops the silo gracefully (SIGTERM) and waits for the process to end; kills it if it outlives <paramref name="timeout"/>.</summary>
    /// <returns>Whether it ended within the timeout on its own.</returns>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (!IsRunning)
        {
            return true;
        }
        await SignalAsync("TERM");
        var deadline = DateTime.UtcNow + timeout;
        while (IsRunning && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        if (!IsRunning)
        {
            return true;
        }
        await SignalAsync("KILL");
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            File.Delete(StateFile(GatewayPort, "pid"));
            File.Delete(StateFile(GatewayPort, "log"));
        }
    }

    private Task<ProcessResult> SignalAsync(string signal) =>
        ProcessRunner.RunAsync("kill", [$"-{signal}", Pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
}
