using Npgsql;
using OrleansMQ.Grains.Storage;

namespace OrleansMQ.Grains.Retry;

/// <summary>omq_dlq_resend in Postgres; see sql/003_orleansmq_schedules.sql.</summary>
internal sealed class PostgresDeadLetterStore(NpgsqlDataSource dataSource) : IDeadLetterStore
{
    public async Task<Dictionary<string, DateTimeOffset>> LoadResentAsync(string group, IReadOnlyList<string> msgIds, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        if (msgIds.Count == 0) return result;
        await using var cmd = dataSource.CreateCommand("SELECT msg_id, resent_at FROM omq_dlq_resend WHERE consumer_group = $1 AND msg_id = ANY($2)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. msgIds] });
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetString(0)] = new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero);
        }
        return result;
    }

    public async Task MarkResentAsync(string group, IReadOnlyList<string> msgIds, CancellationToken cancellationToken = default)
    {
        if (msgIds.Count == 0) return;
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_dlq_resend (consumer_group, msg_id, resent_at) SELECT $1, id, now() FROM unnest($2::text[]) AS t(id)
            ON CONFLICT (consumer_group, msg_id) DO UPDATE SET resent_at = now()
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. msgIds.Distinct(StringComparer.Ordinal)] });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }
}
