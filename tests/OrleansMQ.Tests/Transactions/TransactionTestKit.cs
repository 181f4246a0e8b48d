using System.Collections.Concurrent;
using Npgsql;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Transactions;

namespace OrleansMQ.Tests.Transactions;

/// <summary>A transaction listener whose answers the test sets, recording what it was asked.</summary>
internal sealed class ScriptedListener(
    Func<Message, Task<LocalTransactionState>> execute,
    Func<MessageExt, LocalTransactionState>? check = null) : ITransactionListener
{
    public ConcurrentQueue<Message> Executed { get; } = new();

    public ConcurrentQueue<MessageExt> Checked { get; } = new();

    public static ScriptedListener Answering(LocalTransactionState execute, LocalTransactionState check = LocalTransactionState.Unknown) =>
        new(_ => Task.FromResult(execute), _ => check);

    public async Task<LocalTransactionState> ExecuteLocalTransactionAsync(Message message, object? arg, CancellationToken cancellationToken)
    {
        Executed.Enqueue(message);
        return await execute(message);
    }

    public Task<LocalTransactionState> CheckLocalTransactionAsync(MessageExt message, CancellationToken cancellationToken)
    {
        Checked.Enqueue(message);
        return Task.FromResult(check?.Invoke(message) ?? LocalTransactionState.Unknown);
    }
}

/// <summary>What transaction tests look at: the half-message rows, and what a topic's consumers can see.</summary>
internal static class TransactionTestKit
{
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    public static ProducerOptions Options(string group) => new() { ProducerGroup = group, HeartbeatInterval = TimeSpan.FromMilliseconds(200) };

    /// <summary>The half message's row as <c>transaction list</c> shows it.</summary>
    public static async Task<HalfMessageInfo> InfoAsync(AdminClient admin, string group, string transactionId)
    {
        var all = await admin.ListTransactionsAsync(group, maxCount: 1000);
        return Assert.Single(all, t => t.TransactionId == transactionId);
    }

    /// <summary>Waits until the transaction reaches <paramref name="state"/>.</summary>
    public static Task<HalfMessageInfo> WaitForStateAsync(AdminClient admin, string group, string transactionId, TransactionState state) =>
        Eventually.PollAsync(() => InfoAsync(admin, group, transactionId), t => t.State == state, Guard, $"transaction {transactionId} to be {state}");

    /// <summary>How many rows with this message id the message log holds (any topic).</summary>
    public static async Task<long> CountStoredAsync(PostgresDatabase database, string msgId)
    {
        await using var cmd = database.DataSource.CreateCommand("SELECT count(*) FROM omq_message WHERE msg_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = msgId });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Half messages stored for a producer group.</summary>
    public static async Task<long> CountHalfMessagesAsync(PostgresDatabase database, string group)
    {
        await using var cmd = database.DataSource.CreateCommand("SELECT count(*) FROM omq_half_message WHERE producer_group = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Deactivates the group's coordinator and leaves the transaction in <paramref name="state"/> behind it. While it goes,
    /// the transaction is parked as resolved, so the watchdog (which wakes groups with unresolved transactions every
    /// second in the tests) cannot re-activate it before the deactivation is seen; afterwards nothing but the watchdog
    /// (or the test) calls the coordinator.
    /// </summary>
    public static async Task DeactivateCoordinatorAsync(IGrainFactory grains, PostgresDatabase database, string group, string transactionId, string state)
    {
        await SetStateAsync(database, group, transactionId, "rolled_back");
        await grains.DeactivateAsync(grains.GetGrain<ITransactionCoordinatorGrain>(group));
        await SetStateAsync(database, group, transactionId, state);
    }

    /// <summary>
    /// Sets a transaction's state behind the coordinator's back: what a coordinator that recorded its decision and died
    /// before (or after) appending leaves in Postgres.
    /// </summary>
    public static async Task SetStateAsync(PostgresDatabase database, string group, string transactionId, string state)
    {
        await using var cmd = database.DataSource.CreateCommand(
            """
            UPDATE omq_half_message SET state = $3,
                   resolved_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END,
                   resolved_by = CASE WHEN $3 = 'pending' THEN NULL ELSE 'producer' END
            WHERE producer_group = $1 AND transaction_id = $2
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = transactionId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state });
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }
}
