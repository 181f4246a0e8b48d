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
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
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
            await using (var cmd = new NpgsqlCommand(sql, connection, transaction))
            {
                await cmd.ExecuteNonQueryAsync(cancellationToken);
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

    /// <summary>The connection string without its password, for log lines.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
