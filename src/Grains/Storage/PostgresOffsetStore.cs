using Npgsql;

namespace OrleansMQ.Grains.Storage;

/// <summary>Committed consumer offsets in Postgres (omq_consumer_offset).</summary>
internal sealed class PostgresOffsetStore(NpgsqlDataSource dataSource) : IOffsetStore
{
    public async Task<Dictionary<string, long>> LoadAsync(string topic, int queueId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT consumer_group, next_offset FROM omq_consumer_offset WHERE topic = $1 AND queue_id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }
        return result;
    }

    public async Task SaveAsync(string topic, int queueId, IReadOnlyCollection<KeyValuePair<string, long>> offsets, CancellationToken cancellationToken = default)
    {
        if (offsets.Count == 0) return;
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_consumer_offset (consumer_group, topic, queue_id, next_offset, updated_at)
            SELECT g, $1, $2, o, now() FROM unnest($3::text[], $4::bigint[]) AS t(g, o)
            ON CONFLICT (consumer_group, topic, queue_id) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = offsets.Select(o => o.Key).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = offsets.Select(o => o.Value).ToArray() });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public Task<IReadOnlyList<string>> GroupsOfTopicAsync(string topic, CancellationToken cancellationToken = default) =>
        NamesAsync("SELECT DISTINCT consumer_group FROM omq_consumer_offset WHERE topic = $1 ORDER BY consumer_group", topic, cancellationToken);

    public Task<IReadOnlyList<string>> TopicsOfGroupAsync(string group, CancellationToken cancellationToken = default) =>
        NamesAsync("SELECT DISTINCT topic FROM omq_consumer_offset WHERE consumer_group = $1 ORDER BY topic", group, cancellationToken);

    public async Task<IReadOnlyList<string>> GroupsAsync(CancellationToken cancellationToken = default)
    {
        // Each table leads with consumer_group in its primary key, so every branch is an index scan.
        await using var cmd = dataSource.CreateCommand(
            """
            SELECT consumer_group FROM omq_consumer_offset
            UNION SELECT consumer_group FROM omq_broadcast_offset
            UNION SELECT consumer_group FROM omq_consumer_group
            ORDER BY 1
            """);
        return await ReadNamesAsync(cmd, cancellationToken);
    }

    /// <summary>The first column of a query with one text parameter.</summary>
    private async Task<IReadOnlyList<string>> NamesAsync(string sql, string arg, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = arg });
        return await ReadNamesAsync(cmd, cancellationToken);
    }

    private static async Task<IReadOnlyList<string>> ReadNamesAsync(NpgsqlCommand cmd, CancellationToken cancellationToken)
    {
        var result = new List<string>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(reader.GetString(0));
        }
        return result;
    }

    public async Task<long> DeleteGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var sql in new[]
        {
            "DELETE FROM omq_consumer_offset WHERE consumer_group = $1",
            "DELETE FROM omq_broadcast_offset WHERE consumer_group = $1",
            "DELETE FROM omq_consumer_group WHERE consumer_group = $1 AND (lock_horizon IS NULL OR lock_horizon <= now())",
        })
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
            batch.BatchCommands.Add(command);
        }
        await StoreErrors.Guard(() => batch.ExecuteNonQueryAsync(cancellationToken));
        return batch.BatchCommands[0].RecordsAffected + batch.BatchCommands[1].RecordsAffected;
    }

    public async Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        // Broadcasting instances' offsets (sql/004) go with the topic too: a re-created topic starts over.
        await using var batch = dataSource.CreateBatch();
        foreach (var table in new[] { "omq_consumer_offset", "omq_broadcast_offset" })
        {
            var command = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE topic = $1");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
            batch.BatchCommands.Add(command);
        }
        await StoreErrors.Guard(() => batch.ExecuteNonQueryAsync(cancellationToken));
    }
}
