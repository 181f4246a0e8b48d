using Npgsql;
using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Storage;

/// <summary>The query paths on omq_message: msg_id and keys indexes (sql/005), the primary key for the rest.</summary>
internal sealed class PostgresMessageQueryStore(NpgsqlDataSource dataSource, IMessageStore messages) : IMessageQueryStore
{
    private const string Columns = PostgresMessageStore.Columns;

    public Task<IReadOnlyList<MessageExt>> FindByIdAsync(string msgId, int maxResults, CancellationToken cancellationToken = default) =>
        ReadAllAsync(
            $"SELECT {Columns} FROM omq_message WHERE msg_id = $1 ORDER BY stored_at, topic, queue_id LIMIT $2",
            cmd =>
            {
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = msgId });
                cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxResults });
            },
            cancellationToken);

    public Task<IReadOnlyList<MessageExt>> FindByKeyAsync(string topic, string key, DateTimeOffset from, DateTimeOffset to, int maxResults, CancellationToken cancellationToken = default) =>
        ReadAllAsync(
            $"""
            SELECT {Columns} FROM omq_message
            WHERE keys @> ARRAY[$2]::text[] AND topic = $1 AND stored_at >= $3 AND stored_at < $4
            ORDER BY stored_at, queue_id, queue_offset LIMIT $5
            """,
            cmd =>
            {
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
                cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = from.UtcDateTime });
                cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = to.UtcDateTime });
                cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxResults });
            },
            cancellationToken);

    public async Task<MessageExt?> FindAtAsync(string topic, int queueId, long offset, CancellationToken cancellationToken = default)
    {
        var rows = await ReadAllAsync(
            $"SELECT {Columns} FROM omq_message WHERE topic = $1 AND queue_id = $2 AND queue_offset = $3",
            cmd => AddQueue(cmd, topic, queueId, offset),
            cancellationToken);
        return rows.Count > 0 ? rows[0] : null;
    }

    public async Task<long> SearchOffsetAsync(string topic, int queueId, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var bounds = await messages.GetBoundsAsync(topic, queueId, cancellationToken);
        if (bounds.NextOffset == 0)
        {
            return 0;
        }
        await using var connection = await StoreErrors.Guard(() => dataSource.OpenConnectionAsync(cancellationToken).AsTask());
        // Invariant: every row below lo was stored before time; the row at or after hi (if any) was not.
        long lo = bounds.MinOffset, hi = bounds.NextOffset;
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            var (offset, storedAt) = await FirstFromAsync(connection, topic, queueId, mid, cancellationToken);
            if (offset is not null && offset < hi && storedAt < time)
            {
                lo = offset.Value + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    public async Task<int> DeleteBeforeAsync(string topic, int queueId, long beforeOffset, int maxRows, CancellationToken cancellationToken = default)
    {
        // The lowest rows first, bounded, so each statement holds its locks briefly and readers never wait long.
        await using var cmd = dataSource.CreateCommand(
            """
            DELETE FROM omq_message
            WHERE topic = $1 AND queue_id = $2 AND queue_offset < $3
              AND queue_offset < (SELECT queue_offset FROM omq_message WHERE topic = $1 AND queue_id = $2
                                  ORDER BY queue_offset LIMIT 1) + $4
            """);
        AddQueue(cmd, topic, queueId, beforeOffset);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = maxRows });
        return await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    private static async Task<(long? Offset, DateTimeOffset StoredAt)> FirstFromAsync(
        NpgsqlConnection connection, string topic, int queueId, long from, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT queue_offset, stored_at FROM omq_message WHERE topic = $1 AND queue_id = $2 AND queue_offset >= $3 ORDER BY queue_offset LIMIT 1",
            connection);
        AddQueue(cmd, topic, queueId, from);
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        if (!await reader.ReadAsync(cancellationToken))
        {
            return (null, default);
        }
        return (reader.GetInt64(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero));
    }

    private static void AddQueue(NpgsqlCommand cmd, string topic, int queueId, long offset)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = offset });
    }

    private async Task<IReadOnlyList<MessageExt>> ReadAllAsync(string sql, Action<NpgsqlCommand> parameters, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        parameters(cmd);
        var result = new List<MessageExt>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(PostgresMessageStore.ReadMessage(reader));
        }
        return result;
    }
}
