using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>What a finished process printed and returned.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Non-empty stdout lines.</summary>
    public IReadOnlyList<string> StdoutLines => Lines(Stdout);

    /// <summary>Non-empty stderr lines.</summary>
    public IReadOnlyList<string> StderrLines => Lines(Stderr);

    public override string ToString() => $"`{Command}` exited {ExitCode}\n--- stdout:\n{Stdout}--- stderr:\n{Stderr}";

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Runs the repository's scripts and tools as real processes, as a user would from a shell.</summary>
public static class ProcessRunner
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The folder holding OrleansMQ.sln (found by walking up from the test assembly).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="arguments"/> (each passed as one argv entry, no shell
    /// quoting) from the repository root; kills it and its children when it outlives <paramref name="timeout"/>.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The tests say where the broker and the store are; a developer's defaults must not leak in.
        start.Environment.Remove("ORLEANSMQ_GATEWAY");
        start.Environment.Remove("ORLEANSMQ_POSTGRES");
        var command = string.Join(' ', new[] { fileName }.Concat(start.ArgumentList.Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a)));

        using var process = new System.Diagnostics.Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"`{command}` did not finish within {timeout.TotalSeconds:0} s and was killed\n--- stdout:\n{stdout}--- stderr:\n{stderr}");
        }
        lock (stdout)
        lock (stderr)
        {
            return new ProcessResult(command, process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }

    /// <summary>Runs <c>./orleansmq</c> (the launcher script) with <paramref name="arguments"/>.</summary>
    public static Task<ProcessResult> LauncherAsync(TimeSpan timeout, params string[] arguments) =>
        RunAsync(Path.Combine(RepositoryRoot, "orleansmq"), arguments, timeout);

    /// <summary>A TCP port nobody listens on right now (the OS picks it; it stays free unless someone else takes it meanwhile).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether the process is running (a zombie waiting to be reaped counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansMQ.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} contains OrleansMQ.sln; the process tests must run from the repository's build output");
    }
}
