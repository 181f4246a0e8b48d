using Npgsql;
using OrleansMQ.Grains.Storage;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A fresh, uniquely named database (<c>omq_test_…</c>) on the server named by
/// <c>ORLEANSMQ_TEST_POSTGRES</c>, with the broker schema applied; dropped (WITH (FORCE)) on dispose.
/// Also the tests' window into the store: they check what the broker wrote with plain SQL.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string EnvironmentVariable = "ORLEANSMQ_TEST_POSTGRES";

    private readonly string _adminConnectionString;

    private PostgresDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary>Connection string of this database (give it to the silos).</summary>
    public string ConnectionString { get; }

    /// <summary>For the tests' own queries.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// The server to create test databases on. Missing means the suite was started the wrong way:
    /// that is a failure, not a reason to skip the broker tests.
    /// </summary>
    public static string AdminConnectionString()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set, so the broker tests have no PostgreSQL to run against. " +
                $"Run the tests with `./orleansmq test` (it starts a private PostgreSQL and sets it), or set {EnvironmentVariable} " +
                "to a connection string of the `postgres` database of a server where the tests may create databases.");
        }
        return value;
    }

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var admin = AdminConnectionString();
        var name = $"omq_test_{Guid.NewGuid():N}";
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        try
        {
            await SchemaInstaller.ApplyAsync(connectionString);
        }
        catch
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            throw;
        }
        return new PostgresDatabase(admin, name, connectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await ExecuteAsync(_adminConnectionString, $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    // ---- what the broker stored -------------------------------------------------------------------

    /// <summary>Rows of a topic (or of one of its queues) in omq_message.</summary>
    public async Task<long> CountMessagesAsync(string topic, int? queueId = null)
    {
        await using var cmd = DataSource.CreateCommand(
            "SELECT count(*) FROM omq_message WHERE topic = $1 AND ($2::int IS NULL OR queue_id = $2)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)queueId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>(offset, msg_id) of every row of one queue, in offset order.</summary>
    public async Task<IReadOnlyList<(long Offset, string MsgId)>> ReadQueueAsync(string topic, int queueId)
    {
        await using var cmd = DataSource.CreateCommand(
            "SELECT queue_offset, msg_id FROM omq_message WHERE topic = $1 AND queue_id = $2 ORDER BY queue_offset");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        var rows = new List<(long, string)>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }
        return rows;
    }

    /// <summary>Body and msg_id of one stored row, or null.</summary>
    public async Task<(string MsgId, byte[] Body)?> ReadRowAsync(string topic, int queueId, long offset)
    {
        await using var cmd = DataSource.CreateCommand(
            "SELECT msg_id, body FROM omq_message WHERE topic = $1 AND queue_id = $2 AND queue_offset = $3");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = offset });
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetFieldValue<byte[]>(1)) : null;
    }

    /// <summary>A second writer: puts a row straight into the log, bypassing every grain.</summary>
    public async Task InsertRowAsync(string topic, int queueId, long offset, string msgId, byte[] body)
    {
        await using var cmd = DataSource.CreateCommand(
            """
            INSERT INTO omq_message (topic, queue_id, queue_offset, msg_id, body, born_at, stored_at)
            VALUES ($1, $2, $3, $4, $5, now(), now())
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = offset });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = msgId });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = body });
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>The group's persisted offset on a queue (omq_consumer_offset), or null when there is no row.</summary>
    public async Task<long?> ReadConsumerOffsetAsync(string group, string topic, int queueId)
    {
        await using var cmd = DataSource.CreateCommand(
            "SELECT next_offset FROM omq_consumer_offset WHERE consumer_group = $1 AND topic = $2 AND queue_id = $3");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        return await cmd.ExecuteScalarAsync() is long offset ? offset : null;
    }

    /// <summary>Rows of a topic in omq_consumer_offset.</summary>
    public Task<long> CountConsumerOffsetsAsync(string topic) =>
        ScalarAsync("SELECT count(*) FROM omq_consumer_offset WHERE topic = $1", topic);

    /// <summary>Rows named <paramref name="topic"/> in omq_topic (tombstones included).</summary>
    public Task<long> CountTopicRowsAsync(string topic) =>
        ScalarAsync("SELECT count(*) FROM omq_topic WHERE name = $1", topic);

    /// <summary>A topic's stored queue count, permission, message type and retention, or null.</summary>
    public async Task<(int Queues, int Permission, int MessageType, int RetentionHours)?> ReadTopicRowAsync(string topic)
    {
        await using var cmd = DataSource.CreateCommand("SELECT queues, permission, message_type, retention_hours FROM omq_topic WHERE name = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)) : null;
    }

    /// <summary>Sets a group's orderly lock horizon, as an earlier activation of its grain would have left it.</summary>
    public async Task SetLockHorizonAsync(string group, DateTimeOffset horizon)
    {
        await using var cmd = DataSource.CreateCommand(
            "INSERT INTO omq_consumer_group (consumer_group, lock_horizon) VALUES ($1, $2) ON CONFLICT (consumer_group) DO UPDATE SET lock_horizon = EXCLUDED.lock_horizon");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = horizon.UtcDateTime });
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>A group's orderly lock horizon, or null.</summary>
    public async Task<DateTimeOffset?> ReadLockHorizonAsync(string group)
    {
        await using var cmd = DataSource.CreateCommand("SELECT lock_horizon FROM omq_consumer_group WHERE consumer_group = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        return await cmd.ExecuteScalarAsync() is DateTime utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;
    }

    /// <summary>Rows of a group in omq_broadcast_offset (every instance, every queue).</summary>
    public Task<long> CountBroadcastOffsetsAsync(string group) =>
        ScalarAsync("SELECT count(*) FROM omq_broadcast_offset WHERE consumer_group = $1", group);

    /// <summary>Rows of a group in omq_consumer_offset.</summary>
    public Task<long> CountGroupOffsetsAsync(string group) =>
        ScalarAsync("SELECT count(*) FROM omq_consumer_offset WHERE consumer_group = $1", group);

    private async Task<long> ScalarAsync(string sql, params string[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = arg });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }
}
