using Npgsql;
using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Storage;

/// <summary>Broadcasting consumers' offsets in Postgres (omq_broadcast_offset).</summary>
internal sealed class PostgresBroadcastOffsetStore(NpgsqlDataSource dataSource) : IBroadcastOffsetStore
{
    public async Task<Dictionary<MessageQueue, long>> LoadAsync(string group, string instanceName, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT topic, queue_id, next_offset FROM omq_broadcast_offset WHERE consumer_group = $1 AND instance_name = $2");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instanceName });
        var result = new Dictionary<MessageQueue, long>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result[new MessageQueue(reader.GetString(0), reader.GetInt32(1))] = reader.GetInt64(2);
        }
        return result;
    }

    public async Task SaveAsync(string group, string instanceName, IReadOnlyCollection<KeyValuePair<MessageQueue, long>> offsets, CancellationToken cancellationToken = default)
    {
        if (offsets.Count == 0) return;
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_broadcast_offset (consumer_group, instance_name, topic, queue_id, next_offset, updated_at)
            SELECT $1, $2, t, q, o, now() FROM unnest($3::text[], $4::int[], $5::bigint[]) AS x(t, q, o)
            ON CONFLICT (consumer_group, instance_name, topic, queue_id) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instanceName });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = offsets.Select(o => o.Key.Topic).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = offsets.Select(o => o.Key.QueueId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = offsets.Select(o => o.Value).ToArray() });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }
}
