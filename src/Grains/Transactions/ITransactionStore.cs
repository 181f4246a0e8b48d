using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Grains.Transactions;

/// <summary>One half message as stored (omq_half_message).</summary>
internal sealed record HalfMessageRow(
    string ProducerGroup,
    MessageQueue Queue,
    MessageData Message,
    TransactionState State,
    int CheckTimes,
    DateTimeOffset NextCheckAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ResolvedAt,
    TransactionResolver? ResolvedBy,
    long? QueueOffset,
    string? Note)
{
    /// <summary>The transaction id: the message id, as RocketMQ's.</summary>
    public string TransactionId => Message.MsgId;

    public HalfMessageInfo ToInfo() => new(ProducerGroup, TransactionId, Message.MsgId, Queue, Message.Tag, Message.Keys, State, CheckTimes,
        CreatedAt, State is TransactionState.Pending or TransactionState.Committing ? NextCheckAt : null, ResolvedAt, ResolvedBy, QueueOffset, Note);
}

/// <summary>
/// Half messages in Postgres (sql/006_transactions.sql). Every state change is one conditional statement, so the
/// row, not the grain's memory, decides which of two racing resolutions wins.
/// </summary>
internal interface ITransactionStore
{
    /// <summary>Stores a pending half message (transaction id = message id). An id already stored is left as it is; returns the stored row.</summary>
    Task<HalfMessageRow> InsertAsync(string group, MessageQueue queue, MessageData message, DateTimeOffset nextCheckAt, CancellationToken cancellationToken = default);

    /// <summary>The half message, or null.</summary>
    Task<HalfMessageRow?> GetAsync(string group, string transactionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a pending transaction to <paramref name="decision"/> (Committing, RolledBack or Discarded); returns the row
    /// after the change, or null when it was not pending (someone else decided first, or it does not exist).
    /// </summary>
    Task<HalfMessageRow?> DecideAsync(string group, string transactionId, TransactionState decision, TransactionResolver by, string? note, CancellationToken cancellationToken = default);

    /// <summary>Records that a committing transaction's message was appended at <paramref name="queueOffset"/> (null: already there, offset unknown).</summary>
    Task MarkCommittedAsync(string group, string transactionId, long? queueOffset, CancellationToken cancellationToken = default);

    /// <summary>Gives up on a committing transaction whose destination is gone.</summary>
    Task MarkUndeliverableAsync(string group, string transactionId, string note, CancellationToken cancellationToken = default);

    /// <summary>The group's transactions decided to commit but not yet recorded as appended (a crash or failure in between).</summary>
    Task<IReadOnlyList<HalfMessageRow>> LoadCommittingAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pending transactions due for a check at <paramref name="now"/> that have had fewer than <paramref name="maxChecks"/>:
    /// counts the check and moves their next check to <paramref name="nextCheckAt"/> in the same statement, then returns them.
    /// </summary>
    Task<IReadOnlyList<HalfMessageRow>> ClaimDueChecksAsync(string group, DateTimeOffset now, DateTimeOffset nextCheckAt, int maxChecks, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Pending transactions due at <paramref name="now"/> that had <paramref name="maxChecks"/> checks: marks them discarded and returns them.</summary>
    Task<IReadOnlyList<HalfMessageRow>> DiscardExhaustedAsync(string group, DateTimeOffset now, int maxChecks, CancellationToken cancellationToken = default);

    /// <summary>When the group next has work: the earliest check of a pending transaction, or null when none is unresolved.</summary>
    Task<DateTimeOffset?> NextCheckAtAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>Groups with unresolved (pending or committing) transactions.</summary>
    Task<IReadOnlyList<string>> GroupsWithUnresolvedAsync(CancellationToken cancellationToken = default);

    /// <summary>Half messages, newest first, of one group or all, in one state or all.</summary>
    Task<IReadOnlyList<HalfMessageRow>> ListAsync(string? group, TransactionState? state, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Removes at most <paramref name="maxCount"/> records of transactions resolved before <paramref name="before"/>; returns how many.</summary>
    Task<int> DeleteResolvedBeforeAsync(DateTimeOffset before, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The offset of the message with this id in this queue, or null when the queue holds none.</summary>
    Task<long?> FindInQueueAsync(MessageQueue queue, string msgId, CancellationToken cancellationToken = default);
}
