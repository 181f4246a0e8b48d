namespace OrleansMQ.Transactions;

/// <summary>
/// A transaction producer's callback for its group's coordinator grain (an Orleans observer the producer creates with
/// <c>IGrainFactory.CreateObjectReference</c>), as RocketMQ's CHECK_TRANSACTION_STATE request. The coordinator calls
/// one live producer of the group about an unresolved transaction; any instance of the group may answer, not only
/// the one that sent it. Observers are not durable: each heartbeat hands the reference over again.
/// </summary>
public interface ITransactionCheckObserver : IGrainObserver
{
    /// <summary>Runs the producer's <c>CheckLocalTransactionAsync</c>; Unknown when it throws or cannot tell.</summary>
    Task<LocalTransactionState> CheckLocalTransaction(TransactionCheckRequest request);
}
