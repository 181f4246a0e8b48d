using Npgsql;
using OrleansMQ.Topics;

namespace OrleansMQ.Grains.Storage;

/// <summary>Topic configuration rows (omq_topic), tombstones included.</summary>
internal sealed class PostgresTopicStore(NpgsqlDataSource dataSource) : ITopicStore
{
    private const string Columns = "name, queues, permission, message_type, retention_hours, created_at, deleted_at";

    public async Task<TopicRecord?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {Columns} FROM omq_topic WHERE name = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<bool> CreateAsync(TopicConfig config, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_topic (name, queues, permission, message_type, retention_hours, created_at, deleted_at)
            VALUES ($1, $2, $3, $4, $5, now(), NULL)
            ON CONFLICT (name) DO UPDATE SET queues = EXCLUDED.queues, permission = EXCLUDED.permission,
                message_type = EXCLUDED.message_type, retention_hours = EXCLUDED.retention_hours,
                created_at = now(), deleted_at = NULL
            WHERE omq_topic.deleted_at IS NOT NULL
            """);
        AddConfig(cmd, config);
        return await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken)) == 1;
    }

    public async Task MarkDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("UPDATE omq_topic SET deleted_at = now() WHERE name = $1 AND deleted_at IS NULL");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<bool> UpdateAsync(TopicConfig config, CancellationToken cancellationToken = default)
    {
        // The queue-count guard keeps a topic from shrinking even if two updates race from different callers.
        await using var cmd = dataSource.CreateCommand(
            """
            UPDATE omq_topic SET queues = $2, permission = $3, message_type = $4, retention_hours = $5
            WHERE name = $1 AND deleted_at IS NULL AND queues <= $2
            """);
        AddConfig(cmd, config);
        return await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken)) == 1;
    }

    public async Task EnsureAsync(TopicConfig config, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_topic (name, queues, permission, message_type, retention_hours, created_at, deleted_at)
            VALUES ($1, $2, $3, $4, $5, now(), NULL)
            ON CONFLICT (name) DO UPDATE SET queues = GREATEST(omq_topic.queues, EXCLUDED.queues), deleted_at = NULL
            WHERE omq_topic.deleted_at IS NOT NULL OR omq_topic.queues < EXCLUDED.queues
            """);
        AddConfig(cmd, config);
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<IReadOnlyList<TopicConfig>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {Columns} FROM omq_topic WHERE deleted_at IS NULL ORDER BY name");
        var result = new List<TopicConfig>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(Read(reader).Config);
        }
        return result;
    }

    /// <summary>$1 to $5: name, queues, permission, message type, retention hours.</summary>
    private static void AddConfig(NpgsqlCommand cmd, TopicConfig config)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = config.Name });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = config.Queues });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)config.Permission });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)config.MessageType });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = config.RetentionHours });
    }

    private static TopicRecord Read(NpgsqlDataReader reader) => new(
        new TopicConfig(reader.GetString(0), reader.GetInt32(1), (TopicPermission)reader.GetInt32(2), (TopicMessageType)reader.GetInt32(3), reader.GetInt32(4))
        {
            CreatedAt = new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero),
        },
        reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero));
}
