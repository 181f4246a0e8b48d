using Npgsql;

namespace OrleansMQ.Grains.Storage;

/// <summary>The consumer-group row in Postgres (omq_consumer_group).</summary>
internal sealed class PostgresConsumerGroupStore(NpgsqlDataSource dataSource) : IConsumerGroupStore
{
    public async Task<DateTimeOffset?> GetLockHorizonAsync(string group, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT lock_horizon FROM omq_consumer_group WHERE consumer_group = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        var value = await StoreErrors.Guard(() => cmd.ExecuteScalarAsync(cancellationToken));
        return value is DateTime utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;
    }

    public async Task SaveLockHorizonAsync(string group, DateTimeOffset horizon, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_consumer_group (consumer_group, lock_horizon, updated_at) VALUES ($1, $2, now())
            ON CONFLICT (consumer_group) DO UPDATE
              SET lock_horizon = GREATEST(omq_consumer_group.lock_horizon, EXCLUDED.lock_horizon), updated_at = now()
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = horizon.UtcDateTime });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }
}
