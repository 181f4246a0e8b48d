using OrleansMQ.Messages;

namespace OrleansMQ.Transactions;

/// <summary>
/// What a local transaction (or a check of it) decided, as RocketMQ's LocalTransactionState. The broker commits the
/// half message on <see cref="Commit"/>, discards it on <see cref="Rollback"/>, and checks back later on <see cref="Unknown"/>.
/// </summary>
public enum LocalTransactionState
{
    /// <summary>The local transaction committed: make the message visible to consumers (RocketMQ's COMMIT_MESSAGE).</summary>
    Commit = 0,
    /// <summary>The local transaction rolled back: discard the message (RocketMQ's ROLLBACK_MESSAGE).</summary>
    Rollback = 1,
    /// <summary>Not known yet: keep the message invisible and check back later (RocketMQ's UNKNOW).</summary>
    Unknown = 2,
}

/// <summary>Where a half message is in its life (omq_half_message.state).</summary>
public enum TransactionState
{
    /// <summary>Stored, invisible to consumers, waiting for commit or rollback (checked back while it waits).</summary>
    Pending = 0,
    /// <summary>Commit decided and recorded; the append to its real queue is under way (or will be redone after a crash).</summary>
    Committing = 1,
    /// <summary>Appended to its real queue once: visible to consumers.</summary>
    Committed = 2,
    /// <summary>Rolled back: never visible. The record is kept for inspection.</summary>
    RolledBack = 3,
    /// <summary>Given up on: still unknown after the maximum number of checks (or its topic is gone). Never visible.</summary>
    Discarded = 4,
}

/// <summary>Who resolved a transaction.</summary>
public enum TransactionResolver
{
    /// <summary>The producer that sent it, right after its local transaction.</summary>
    Producer = 0,
    /// <summary>A producer of the group, answering the broker's check-back.</summary>
    CheckBack = 1,
    /// <summary>An operator (<c>orleansmq transaction commit|rollback</c>, <c>AdminClient</c>).</summary>
    Operator = 2,
    /// <summary>The broker: checked the maximum number of times, or its destination is gone.</summary>
    Broker = 3,
}

/// <summary>A half message to store: the queue it will be committed to (chosen at send time) and the message itself.</summary>
[GenerateSerializer, Immutable]
public sealed record HalfMessageRequest(
    [property: Id(0)] MessageQueue Queue,
    [property: Id(1)] MessageData Message);

/// <summary>
/// A stored half message: its transaction id (the message id, as RocketMQ), the queue it will be committed to (the one
/// first stored, should a retried send name another) and when it was stored.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HalfMessageResult(
    [property: Id(0)] string TransactionId,
    [property: Id(1)] MessageQueue Queue,
    [property: Id(2)] DateTimeOffset StoredAt);

/// <summary>Resolves a transaction: commit or roll back its half message (RocketMQ's EndTransactionRequestHeader).</summary>
[GenerateSerializer, Immutable]
public sealed record EndTransactionRequest(
    [property: Id(0)] string TransactionId,
    [property: Id(1)] LocalTransactionState State,
    [property: Id(2)] TransactionResolver ResolvedBy);

/// <summary>The outcome of a resolution: the transaction's state now and, once committed, where the message was stored.</summary>
[GenerateSerializer, Immutable]
public sealed record EndTransactionResult(
    [property: Id(0)] string TransactionId,
    [property: Id(1)] TransactionState State,
    [property: Id(2)] MessageQueue Queue,
    [property: Id(3)] long? QueueOffset);

/// <summary>A live producer of the group: its id, host, and the observer the broker checks transactions back through.</summary>
[GenerateSerializer, Immutable]
public sealed record TransactionProducerHeartbeat(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string Host,
    [property: Id(2)] ITransactionCheckObserver Observer);

/// <summary>
/// The broker asks a producer about an unresolved transaction: the half message as it was sent (on its real topic and
/// queue, <see cref="MessageExt.QueueOffset"/> −1 since it is not in the queue yet) and how many checks it has had.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TransactionCheckRequest(
    [property: Id(0)] string ProducerGroup,
    [property: Id(1)] string TransactionId,
    [property: Id(2)] MessageExt Message,
    [property: Id(3)] int CheckTimes);

/// <summary>One half message as <c>orleansmq transaction list</c> shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record HalfMessageInfo(
    [property: Id(0)] string ProducerGroup,
    [property: Id(1)] string TransactionId,
    [property: Id(2)] string MsgId,
    [property: Id(3)] MessageQueue Queue,
    [property: Id(4)] string? Tag,
    [property: Id(5)] IReadOnlyList<string> Keys,
    [property: Id(6)] TransactionState State,
    [property: Id(7)] int CheckTimes,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] DateTimeOffset? NextCheckAt,
    [property: Id(10)] DateTimeOffset? ResolvedAt,
    [property: Id(11)] TransactionResolver? ResolvedBy,
    [property: Id(12)] long? QueueOffset,
    [property: Id(13)] string? Note);
