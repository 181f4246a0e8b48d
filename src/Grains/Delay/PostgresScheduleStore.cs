using Npgsql;
using OrleansMQ.Delay;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Delay;

/// <summary>omq_delay_offset and the timer index (omq_message_timer_due) in Postgres; see sql/003_orleansmq_schedules.sql.</summary>
internal sealed class PostgresScheduleStore(NpgsqlDataSource dataSource) : IScheduleStore
{
    /// <summary>The indexed expression of omq_message_timer_due; queries must spell it the same way to use the index.</summary>
    private const string Due = "((properties->>'" + MessageConst.TimerDeliverMs + "')::bigint)";

    private const string TimerRows = "topic = '" + ScheduleTopics.TimerTopic + "' AND queue_id = $1";

    public async Task<long?> LoadDelayOffsetAsync(int level, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT next_offset FROM omq_delay_offset WHERE level = $1");
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = level });
        var value = await StoreErrors.Guard(() => cmd.ExecuteScalarAsync(cancellationToken));
        return value is long offset ? offset : null;
    }

    public async Task SaveDelayOffsetAsync(int level, long nextOffset, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_delay_offset (level, next_offset, updated_at) VALUES ($1, $2, now())
            ON CONFLICT (level) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
            """);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = level });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = nextOffset });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<IReadOnlyList<TimerEntry>> ScanTimersAsync(int queueId, TimerEntry after, long beforeMs, int maxCount, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"""
            SELECT {Due}, queue_offset FROM omq_message
            WHERE {TimerRows} AND ({Due}, queue_offset) > ($2, $3) AND {Due} < $4
            ORDER BY {Due}, queue_offset LIMIT $5
            """);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.DueMs });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.QueueOffset });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = beforeMs });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        var result = new List<TimerEntry>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new TimerEntry(reader.GetInt64(0), reader.GetInt64(1)));
        }
        return result;
    }

    public async Task<IReadOnlyList<MessageExt>> ReadTimersAsync(int queueId, IReadOnlyList<long> offsets, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT {PostgresMessageStore.Columns} FROM omq_message WHERE {TimerRows} AND queue_offset = ANY($2) ORDER BY queue_offset");
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. offsets] });
        var result = new List<MessageExt>(offsets.Count);
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(PostgresMessageStore.ReadMessage(reader));
        }
        return result;
    }

    public async Task DeleteTimersAsync(int queueId, IReadOnlyList<long> offsets, CancellationToken cancellationToken = default)
    {
        if (offsets.Count == 0) return;
        await using var cmd = dataSource.CreateCommand($"DELETE FROM omq_message WHERE {TimerRows} AND queue_offset = ANY($2)");
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. offsets] });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<(long Count, long? FirstDueMs)> CountTimersAsync(int queueId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT count(*), min({Due}) FROM omq_message WHERE {TimerRows}");
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }
}
