using System.Text.Json;
using Npgsql;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Grains.Transactions;

/// <summary>omq_half_message in Postgres; see sql/006_transactions.sql.</summary>
internal sealed class PostgresTransactionStore(NpgsqlDataSource dataSource) : ITransactionStore
{
    private const string Columns =
        "producer_group, topic, queue_id, msg_id, tag, keys, body, properties, born_at, born_host, state, check_times, next_check_at, created_at, resolved_at, resolved_by, queue_offset, note";

    private const string Key = "producer_group = $1 AND transaction_id = $2";

    public async Task<HalfMessageRow> InsertAsync(string group, MessageQueue queue, MessageData message, DateTimeOffset nextCheckAt, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            """
            INSERT INTO omq_half_message (producer_group, transaction_id, msg_id, topic, queue_id, tag, keys, body, properties, born_at, born_host, next_check_at)
            VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)
            ON CONFLICT (producer_group, transaction_id) DO NOTHING
            """);
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(Text(message.MsgId));
        cmd.Parameters.Add(Text(queue.Topic));
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queue.QueueId });
        cmd.Parameters.Add(NullableText(message.Tag));
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. message.Keys] });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = message.Body });
        cmd.Parameters.Add(NullableText(message.Properties is { Count: > 0 } p ? JsonSerializer.Serialize(p) : null));
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = message.BornAt.UtcDateTime });
        cmd.Parameters.Add(NullableText(message.BornHost));
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = nextCheckAt.UtcDateTime });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
        return await GetAsync(group, message.MsgId, cancellationToken)
            ?? throw new MQException(MQErrorCode.StoreUnavailable, $"half message {message.MsgId} of group '{group}' vanished right after it was stored");
    }

    public async Task<HalfMessageRow?> GetAsync(string group, string transactionId, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {Columns} FROM omq_half_message WHERE {Key}");
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(Text(transactionId));
        var rows = await ReadRowsAsync(cmd, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<HalfMessageRow?> DecideAsync(string group, string transactionId, TransactionState decision, TransactionResolver by, string? note, CancellationToken cancellationToken = default)
    {
        if (decision is TransactionState.Pending or TransactionState.Committed)
        {
            throw new ArgumentOutOfRangeException(nameof(decision), decision, "a decision is committing, rolled back or discarded");
        }
        await using var cmd = dataSource.CreateCommand(
            $"""
            UPDATE omq_half_message SET state = $3, resolved_at = now(), resolved_by = $4, note = $5
            WHERE {Key} AND state = 'pending'
            RETURNING {Columns}
            """);
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(Text(transactionId));
        cmd.Parameters.Add(Text(StateName(decision)));
        cmd.Parameters.Add(Text(TransactionRules.NameOf(by)));
        cmd.Parameters.Add(NullableText(note));
        var rows = await ReadRowsAsync(cmd, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task MarkCommittedAsync(string group, string transactionId, long? queueOffset, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"UPDATE omq_half_message SET state = 'committed', queue_offset = $3 WHERE {Key} AND state = 'committing'");
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(Text(transactionId));
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)queueOffset ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task MarkUndeliverableAsync(string group, string transactionId, string note, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"UPDATE omq_half_message SET state = 'discarded', resolved_by = 'broker', note = $3 WHERE {Key} AND state = 'committing'");
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(Text(transactionId));
        cmd.Parameters.Add(Text(note));
        await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<IReadOnlyList<HalfMessageRow>> LoadCommittingAsync(string group, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT {Columns} FROM omq_half_message WHERE producer_group = $1 AND state = 'committing' ORDER BY resolved_at");
        cmd.Parameters.Add(Text(group));
        return await ReadRowsAsync(cmd, cancellationToken);
    }

    public async Task<IReadOnlyList<HalfMessageRow>> ClaimDueChecksAsync(string group, DateTimeOffset now, DateTimeOffset nextCheckAt, int maxChecks, int maxCount, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"""
            UPDATE omq_half_message SET check_times = check_times + 1, next_check_at = $3
            WHERE (producer_group, transaction_id) IN (
                SELECT producer_group, transaction_id FROM omq_half_message
                WHERE producer_group = $1 AND state = 'pending' AND next_check_at <= $2 AND check_times < $4
                ORDER BY next_check_at LIMIT $5 FOR UPDATE SKIP LOCKED)
              AND state = 'pending'
            RETURNING {Columns}
            """);
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = nextCheckAt.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxChecks });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await ReadRowsAsync(cmd, cancellationToken);
    }

    public async Task<IReadOnlyList<HalfMessageRow>> DiscardExhaustedAsync(string group, DateTimeOffset now, int maxChecks, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"""
            UPDATE omq_half_message SET state = 'discarded', resolved_at = now(), resolved_by = 'broker',
                   note = 'still unknown after ' || check_times || ' check(s)'
            WHERE producer_group = $1 AND state = 'pending' AND next_check_at <= $2 AND check_times >= $3
            RETURNING {Columns}
            """);
        cmd.Parameters.Add(Text(group));
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxChecks });
        return await ReadRowsAsync(cmd, cancellationToken);
    }

    public async Task<DateTimeOffset?> NextCheckAtAsync(string group, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT min(next_check_at) FROM omq_half_message WHERE producer_group = $1 AND state = 'pending'");
        cmd.Parameters.Add(Text(group));
        var value = await StoreErrors.Guard(() => cmd.ExecuteScalarAsync(cancellationToken));
        return value is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }

    public async Task<IReadOnlyList<string>> GroupsWithUnresolvedAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT DISTINCT producer_group FROM omq_half_message WHERE state IN ('pending', 'committing')");
        var groups = new List<string>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            groups.Add(reader.GetString(0));
        }
        return groups;
    }

    public async Task<IReadOnlyList<HalfMessageRow>> ListAsync(string? group, TransactionState? state, int maxCount, CancellationToken cancellationToken = default)
    {
        await using var cmd = dataSource.CreateCommand(
            $"""
            SELECT {Columns} FROM omq_half_message
            WHERE ($1::text IS NULL OR producer_group = $1) AND ($2::text IS NULL OR state = $2)
            ORDER BY created_at DESC, transaction_id DESC LIMIT $3
            """);
        cmd.Parameters.Add(NullableText(group));
        cmd.Parameters.Add(NullableText(state is { } s ? StateName(s) : null));
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await ReadRowsAsync(cmd, cancellationToken);
    }

    public async Task<int> DeleteResolvedBeforeAsync(DateTimeOffset before, int maxCount, CancellationToken cancellationToken = default)
    {
        // omq_half_message_resolved (sql/006) finds them; pending and committing rows have no place in it.
        await using var cmd = dataSource.CreateCommand(
            """
            DELETE FROM omq_half_message WHERE (producer_group, transaction_id) IN (
                SELECT producer_group, transaction_id FROM omq_half_message
                WHERE state IN ('committed', 'rolled_back', 'discarded') AND resolved_at < $1
                LIMIT $2)
            """);
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = before.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await StoreErrors.Guard(() => cmd.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<long?> FindInQueueAsync(MessageQueue queue, string msgId, CancellationToken cancellationToken = default)
    {
        // omq_message_msg_id (sql/005) finds the id; the topic and queue narrow it to the one destination.
        await using var cmd = dataSource.CreateCommand(
            "SELECT min(queue_offset) FROM omq_message WHERE msg_id = $1 AND topic = $2 AND queue_id = $3");
        cmd.Parameters.Add(Text(msgId));
        cmd.Parameters.Add(Text(queue.Topic));
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queue.QueueId });
        var value = await StoreErrors.Guard(() => cmd.ExecuteScalarAsync(cancellationToken));
        return value is long offset ? offset : null;
    }

    internal static string StateName(TransactionState state) => state switch
    {
        TransactionState.Pending => "pending",
        TransactionState.Committing => "committing",
        TransactionState.Committed => "committed",
        TransactionState.RolledBack => "rolled_back",
        TransactionState.Discarded => "discarded",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private static TransactionState ParseState(string name) => name switch
    {
        "pending" => TransactionState.Pending,
        "committing" => TransactionState.Committing,
        "committed" => TransactionState.Committed,
        "rolled_back" => TransactionState.RolledBack,
        "discarded" => TransactionState.Discarded,
        _ => throw new MQException(MQErrorCode.BrokerError, $"omq_half_message has an unknown state '{name}'"),
    };

    private static TransactionResolver? ParseResolver(string? name) =>
        name is null ? null : Enum.GetValues<TransactionResolver>().FirstOrDefault(r => TransactionRules.NameOf(r) == name, TransactionResolver.Broker);

    private static async Task<IReadOnlyList<HalfMessageRow>> ReadRowsAsync(NpgsqlCommand cmd, CancellationToken cancellationToken)
    {
        var rows = new List<HalfMessageRow>();
        await using var reader = await StoreErrors.Guard(() => cmd.ExecuteReaderAsync(cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            var group = reader.GetString(0);
            var message = new MessageData(
                MsgId: reader.GetString(3),
                Tag: reader.IsDBNull(4) ? null : reader.GetString(4),
                Keys: reader.IsDBNull(5) ? [] : reader.GetFieldValue<string[]>(5),
                Body: reader.GetFieldValue<byte[]>(6),
                Properties: reader.IsDBNull(7) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(7)),
                BornAt: Utc(reader.GetDateTime(8)),
                BornHost: reader.IsDBNull(9) ? null : reader.GetString(9),
                ProducerGroup: group);
            rows.Add(new HalfMessageRow(
                group,
                new MessageQueue(reader.GetString(1), reader.GetInt32(2)),
                message,
                ParseState(reader.GetString(10)),
                reader.GetInt32(11),
                Utc(reader.GetDateTime(12)),
                Utc(reader.GetDateTime(13)),
                reader.IsDBNull(14) ? null : Utc(reader.GetDateTime(14)),
                ParseResolver(reader.IsDBNull(15) ? null : reader.GetString(15)),
                reader.IsDBNull(16) ? null : reader.GetInt64(16),
                reader.IsDBNull(17) ? null : reader.GetString(17)));
        }
        return rows;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static NpgsqlParameter NullableText(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text };
}
