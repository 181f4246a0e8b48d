using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Storage;

/// <summary>
/// The message log in Postgres. Appends go through the silo-wide <see cref="GroupCommitWriter"/>,
/// so rows of many queues share one COPY and one commit; reads are plain indexed range scans.
/// </summary>
internal sealed class PostgresMessageStore(NpgsqlDataSource dataSource, GroupCommitWriter writer) : IMessageStore
{
    internal const string Columns = "topic, queue_id, queue_offset, msg_id, tag, keys, body, properties, born_at, stored_at, reconsume_times, producer_group, born_host";

    internal const string CopyCommand = $"COPY omq_message ({Columns}) FROM STDIN (FORMAT BINARY)";

    public Task AppendAsync(IReadOnlyList<MessageRow> rows, CancellationToken cancellationToken = default) => writer.CommitAsync(rows);

    public async Task<QueueBounds> GetBoundsAsync(string topic, int queueId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            SELECT (SELECT queue_offset FROM omq_message WHERE topic = $1 AND queue_id = $2 ORDER BY queue_offset LIMIT 1),
                   last.queue_offset, last.stored_at
            FROM (SELECT 1) one
            LEFT JOIN LATERAL (SELECT queue_offset, stored_at FROM omq_message WHERE topic = $1 AND queue_id = $2
                               ORDER BY queue_offset DESC LIMIT 1) last ON true
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        await reader.ReadAsync(cancellationToken);
        if (reader.IsDBNull(1))
        {
            return new QueueBounds(0, 0, null);
        }
        var min = reader.GetInt64(0);
        var max = reader.GetInt64(1);
        var storedAt = new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero);
        return new QueueBounds(min, max + 1, storedAt);
    }

    public async Task<IReadOnlyList<MessageExt>> ReadAsync(string topic, int queueId, long fromOffset, int maxCount, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT {Columns} FROM omq_message WHERE topic = $1 AND queue_id = $2 AND queue_offset >= $3 ORDER BY queue_offset LIMIT $4");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromOffset });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        var result = new List<MessageExt>(Math.Min(maxCount, 256));
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(ReadMessage(reader));
        }
        return result;
    }

    /// <summary>Maps a row selected with <see cref="Columns"/> (in that order) to a message.</summary>
    internal static MessageExt ReadMessage(NpgsqlDataReader reader) => new(
        Topic: reader.GetString(0),
        QueueId: reader.GetInt32(1),
        QueueOffset: reader.GetInt64(2),
        MsgId: reader.GetString(3),
        Tag: reader.IsDBNull(4) ? null : reader.GetString(4),
        Keys: reader.IsDBNull(5) ? [] : reader.GetFieldValue<string[]>(5),
        Body: reader.GetFieldValue<byte[]>(6),
        Properties: reader.IsDBNull(7) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(7)),
        BornAt: new DateTimeOffset(reader.GetDateTime(8), TimeSpan.Zero),
        StoredAt: new DateTimeOffset(reader.GetDateTime(9), TimeSpan.Zero),
        ReconsumeTimes: reader.GetInt32(10),
        ProducerGroup: reader.IsDBNull(11) ? null : reader.GetString(11),
        BornHost: reader.IsDBNull(12) ? null : reader.GetString(12));

    public async Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("DELETE FROM omq_message WHERE topic = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    /// <summary>Writes rows with binary COPY inside the caller's transaction.</summary>
    internal static async Task CopyRowsAsync(NpgsqlConnection connection, IEnumerable<MessageRow> rows, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(CopyCommand, cancellationToken);
        foreach (var row in rows)
        {
            var m = row.Message;
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(row.Topic, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(row.QueueId, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(row.QueueOffset, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(m.MsgId, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(importer, m.Tag, NpgsqlDbType.Text, cancellationToken);
            if (m.Keys is { Count: > 0 })
            {
                await importer.WriteAsync(m.Keys as string[] ?? [.. m.Keys], NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            }
            else
            {
                await importer.WriteNullAsync(cancellationToken);
            }
            await importer.WriteAsync(m.Body, NpgsqlDbType.Bytea, cancellationToken);
            var properties = m.Properties is { Count: > 0 } ? JsonSerializer.Serialize(m.Properties) : null;
            await WriteNullableAsync(importer, properties, NpgsqlDbType.Jsonb, cancellationToken);
            await importer.WriteAsync(m.BornAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(row.StoredAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(m.ReconsumeTimes, NpgsqlDbType.Integer, cancellationToken);
            await WriteNullableAsync(importer, m.ProducerGroup, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(importer, m.BornHost, NpgsqlDbType.Text, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter importer, string? value, NpgsqlDbType type, CancellationToken cancellationToken)
        => value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);
}
