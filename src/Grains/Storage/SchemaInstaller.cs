using System.Reflection;
using Npgsql;

namespace OrleansMQ.Grains.Storage;

/// <summary>
/// Applies the schema scripts shipped in sql/ (embedded in this assembly) in file-name order. Each
/// script is idempotent and runs in its own transaction under an advisory lock, so silos starting
/// together apply it once each without racing; the applied version is recorded in omq_schema_version.
/// </summary>
public static class SchemaInstaller
{
    private const long AdvisoryLockKey = 7411001;

    /// <summary>The scripts in the order they are applied: (version, file name, SQL).</summary>
    public static IReadOnlyList<(int Version, string Name, string Sql)> Scripts()
    {
        var assembly = typeof(SchemaInstaller).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n.Split('.')[^2];
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (Version: int.Parse(file[..3], System.Globalization.CultureInfo.InvariantCulture), Name: file + ".sql", Sql: reader.ReadToEnd());
            })
            .OrderBy(s => s.Version)
            .ToList();
    }

    /// <summary>Applies every script; safe to call on every start.</summary>
    /// <param name="connectionString">The store.</param>
    /// <param name="onFirstApply">Told the name of each script about to be applied for the first time (it may take a while).</param>
    /// <param name="cancellationToken">Stops between statements.</param>
    public static async Task ApplyAsync(string connectionString, Action<string>? onFirstApply = null, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new MQException(MQErrorCode.StoreUnavailable, $"cannot connect to PostgreSQL ({Describe(connectionString)}): {e.Message}");
        }
        foreach (var (version, name, sql) in Scripts())
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCmd = new NpgsqlCommand(
                $"SELECT pg_advisory_xact_lock({AdvisoryLockKey}); " +
                "CREATE TABLE IF NOT EXISTS omq_schema_version (version int PRIMARY KEY, script text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                connection, transaction))
            {
                await lockCmd.ExecuteNonQueryAsync(cancellationToken);
            }
            if (!await IsAppliedAsync(connection, transaction, version, cancellationToken))
            {
                onFirstApply?.Invoke(name);
            }
            // No command timeout: a script new to an existing database may build an index over a large message
            // table, which takes as long as it takes; the 30 s default would abort the start-up half way.
            await using (var cmd = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 })
            {
                try
                {
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    throw new MQException(MQErrorCode.StoreUnavailable, $"applying schema script {name} to {Describe(connectionString)} failed: {e.Message}");
                }
            }
            await using (var record = new NpgsqlCommand(
                "INSERT INTO omq_schema_version (version, script) VALUES ($1, $2) ON CONFLICT (version) DO UPDATE SET script = EXCLUDED.script",
                connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private static async Task<bool> IsAppliedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int version, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM omq_schema_version WHERE version = $1)", connection, transaction);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        return await cmd.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>The connection string without its password, for log lines.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
