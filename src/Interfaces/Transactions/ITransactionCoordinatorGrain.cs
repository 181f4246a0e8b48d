namespace OrleansMQ.Transactions;

/// <summary>
/// The transactions of one producer group (key: the group), RocketMQ's transactional message service and check
/// service in one grain. Half messages are durable in Postgres and invisible to consumers until committed; a commit
/// appends the message to the queue chosen at send time exactly once; unresolved ones are checked back through a
/// live producer of the group after <c>TransactionTimeout</c>, then every <c>TransactionCheckInterval</c>, at most
/// <c>TransactionCheckMax</c> times, then discarded (and kept on record).
/// </summary>
public interface ITransactionCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Stores a half message; durable when this returns. Sending the same message id again returns the stored one.</summary>
    Task<HalfMessageResult> Prepare(HalfMessageRequest request);

    /// <summary>
    /// Commits or rolls back a transaction. Idempotent: resolving it again the same way returns the same result;
    /// the other way fails with TransactionAlreadyResolved. <see cref="LocalTransactionState.Unknown"/> changes nothing.
    /// </summary>
    Task<EndTransactionResult> EndTransaction(EndTransactionRequest request);

    /// <summary>A producer of the group is alive and can answer check-backs through its observer (sent every heartbeat interval).</summary>
    Task RegisterProducer(TransactionProducerHeartbeat heartbeat);

    /// <summary>A producer is leaving: check-backs go to the other instances of the group.</summary>
    Task UnregisterProducer(string clientId);

    /// <summary>Makes sure the check-back timer runs (the watchdog calls it for groups with unresolved transactions).</summary>
    Task Wake();
}
