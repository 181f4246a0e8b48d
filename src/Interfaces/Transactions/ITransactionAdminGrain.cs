namespace OrleansMQ.Transactions;

/// <summary>Operator reads over the half messages of every producer group (stateless; straight from Postgres).</summary>
public interface ITransactionAdminGrain : IGrainWithIntegerKey
{
    /// <summary>Half messages, newest first: of one group or all (<paramref name="group"/> null), in one state or all.</summary>
    Task<IReadOnlyList<HalfMessageInfo>> ListTransactions(string? group, TransactionState? state, int maxCount);
}
