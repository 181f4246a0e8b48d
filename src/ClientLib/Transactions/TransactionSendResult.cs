using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Client;

/// <summary>What became of a transaction send, as RocketMQ's TransactionSendResult.</summary>
/// <param name="MsgId">The message id the producer assigned.</param>
/// <param name="TransactionId">The transaction id (the message id, as RocketMQ); name it to resolve the transaction by hand.</param>
/// <param name="Queue">The queue the message is (or will be, once committed) stored on.</param>
/// <param name="LocalTransactionState">What the local transaction answered (Unknown when it threw).</param>
/// <param name="State">
/// The broker's state of the transaction after the send: Committed, RolledBack, or Pending when the local transaction
/// answered Unknown or the outcome could not be reported (the broker then checks it back).
/// </param>
/// <param name="StoredAt">When the half message was stored.</param>
public sealed record TransactionSendResult(
    string MsgId,
    string TransactionId,
    MessageQueue Queue,
    LocalTransactionState LocalTransactionState,
    TransactionState State,
    DateTimeOffset StoredAt)
{
    /// <summary>Always <see cref="SendStatus.SendOk"/>: the half message is durable (failures are thrown).</summary>
    public SendStatus Status => SendStatus.SendOk;

    /// <summary>The message's offset in <see cref="Queue"/> once committed; null otherwise.</summary>
    public long? QueueOffset { get; init; }
}
