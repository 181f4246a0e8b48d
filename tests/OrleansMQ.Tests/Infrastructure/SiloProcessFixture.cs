using System.Globalization;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// One real broker process for the process tests: a fresh database, the CLI built (Release, through the
/// launcher, so it is what <c>./orleansmq</c> would run), and a silo started with <c>./orleansmq up --detach</c>.
/// </summary>
public sealed class SiloProcessFixture : IAsyncLifetime
{
    /// <summary>A first use of the launcher may build the CLI.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(3);

    /// <summary>One CLI command (connect, call, disconnect) takes a second or two; this only guards against a hang.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private PostgresDatabase? _database;
    private SiloProcess? _silo;

    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("the database is not created");

    public SiloProcess Silo => _silo ?? throw new InvalidOperationException("the silo is not started");

    /// <summary>The CLI's build output, as <c>./orleansmq</c> runs it.</summary>
    public static string CliDll => Path.Combine(ProcessRunner.RepositoryRoot, "src", "Cli", "bin", "Release", "net10.0", "orleansmq.dll");

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        try
        {
            // `--help` makes the launcher build the CLI when its sources are newer than its output.
            var help = await ProcessRunner.LauncherAsync(BuildTimeout, "--help");
            if (help.ExitCode != 0 || !File.Exists(CliDll))
            {
                throw new InvalidOperationException($"the CLI could not be built: {help}");
            }
            _silo = await SiloProcess.StartAsync(_database.ConnectionString);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
            _silo = null;
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
            _database = null;
        }
    }

    /// <summary>Runs the CLI (<c>dotnet orleansmq.dll</c>) against <paramref name="gateway"/> (the fixture's silo by default).</summary>
    public Task<ProcessResult> CliAsync(string[] arguments, string? gateway = null) =>
        ProcessRunner.RunAsync("dotnet", [CliDll, .. arguments, "--gateway", gateway ?? Silo.Gateway], CommandTimeout);

    /// <summary>Runs the CLI against the fixture's silo.</summary>
    public Task<ProcessResult> CliAsync(params string[] arguments) => CliAsync(arguments, null);

    /// <summary>Rows of the cluster's membership table, as Orleans' ADO.NET clustering wrote them.</summary>
    public async Task<IReadOnlyList<(string DeploymentId, int Port, int ProxyPort, int Status)>> ReadMembershipAsync()
    {
        await using var cmd = Database.DataSource.CreateCommand("SELECT deploymentid, port, proxyport, status FROM orleansmembershiptable ORDER BY port");
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<(string, int, int, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)));
        }
        return rows;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"silo {_silo?.Gateway} on {_database?.Name}");
}

/// <summary>
/// Tests that start the broker and the CLI as processes. One collection, so they run one after another (each
/// start costs seconds of CPU), beside the in-process cluster tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<SiloProcessFixture>
{
    public const string Name = "Broker processes";
}
