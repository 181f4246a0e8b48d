using Orleans.Concurrency;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Transactions;

/// <summary>Operator reads of half messages, straight from Postgres (no coordinator is activated for them).</summary>
[StatelessWorker]
internal sealed class TransactionAdminGrain(ITransactionStore store) : Grain, ITransactionAdminGrain
{
    /// <summary>Most half messages one list returns.</summary>
    public const int MaxListed = 1000;

    public async Task<IReadOnlyList<HalfMessageInfo>> ListTransactions(string? group, TransactionState? state, int maxCount)
    {
        if (group is not null) Names.CheckGroup(group);
        if (maxCount is < 1 or > MaxListed)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"a list of at most {maxCount} is out of range; allowed 1 to {MaxListed} (the CLI's --max, the API's max=)");
        }
        if (state is { } s && !Enum.IsDefined(s))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"transaction state {s} is not one of {string.Join(", ", Enum.GetNames<TransactionState>())}");
        }
        var rows = await store.ListAsync(group, state, maxCount);
        return [.. rows.Select(r => r.ToInfo())];
    }
}
