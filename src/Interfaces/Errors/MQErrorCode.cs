namespace OrleansMQ;

/// <summary>
/// What went wrong, as a stable code the caller can branch on. The numbers are part of the wire
/// contract (they cross the grain boundary and appear in CLI output): never renumber them.
/// </summary>
public enum MQErrorCode
{
    /// <summary>A topic name breaks the naming rule.</summary>
    InvalidTopicName = 1,
    /// <summary>A consumer or producer group name breaks the naming rule.</summary>
    InvalidGroupName = 2,
    /// <summary>The name is reserved for the broker (%RETRY%, %DLQ%, system topics).</summary>
    ReservedName = 3,
    /// <summary>The message body is empty.</summary>
    EmptyBody = 4,
    /// <summary>The message body exceeds the configured maximum.</summary>
    BodyTooLarge = 5,
    /// <summary>User properties exceed the allowed total size, or a property is malformed.</summary>
    InvalidProperties = 6,
    /// <summary>The tag is malformed (contains "||", whitespace or is too long).</summary>
    InvalidTag = 7,
    /// <summary>A business key is malformed.</summary>
    InvalidKeys = 8,
    /// <summary>The topic does not exist and auto-creation is off.</summary>
    TopicNotFound = 9,
    /// <summary>The topic was deleted; it must be created again explicitly.</summary>
    TopicDeleted = 10,
    /// <summary>The topic already exists.</summary>
    TopicAlreadyExists = 11,
    /// <summary>The queue id is outside the topic's queue range.</summary>
    QueueNotFound = 12,
    /// <summary>A batch is too large, empty, or mixes topics.</summary>
    InvalidBatch = 13,
    /// <summary>A tag or filter expression cannot be parsed.</summary>
    InvalidFilterExpression = 14,
    /// <summary>Some other argument is out of its allowed range.</summary>
    InvalidArgument = 15,
    /// <summary>Two writers raced for the same queue offsets; the queue reloaded and the caller may retry.</summary>
    StoreConflict = 16,
    /// <summary>The durable store (PostgreSQL) failed or is unreachable; nothing was acknowledged.</summary>
    StoreUnavailable = 17,
    /// <summary>The broker could not be reached or the call timed out.</summary>
    BrokerUnavailable = 18,
    /// <summary>The client has not been started or was already disposed.</summary>
    ClientNotStarted = 19,
    /// <summary>An offset is outside the queue's range; it was clamped.</summary>
    OffsetOutOfRange = 20,
    /// <summary>The broker failed unexpectedly; retrying the same call is unlikely to help.</summary>
    BrokerError = 21,
    /// <summary>A delay level is not in the cluster's delay table (or a batch asks for a delay).</summary>
    InvalidDelayLevel = 22,
    /// <summary>A timer message's deliver-at time is beyond the broker's timer horizon.</summary>
    DeliverTimeOutOfRange = 23,
    /// <summary>No stored message matches: a query by id, key or offset, or a dead letter to resend, found nothing.</summary>
    MessageNotFound = 24,
    /// <summary>
    /// A transaction send is malformed: the producer has no producer group (the broker checks a transaction back through
    /// its group), or the message asks for a delay or deliver time (not allowed on a transaction message, as RocketMQ 5).
    /// </summary>
    InvalidTransaction = 25,
    /// <summary>The producer group holds no half message with this transaction id (never sent, or its record was cleaned up).</summary>
    TransactionNotFound = 26,
    /// <summary>The transaction was already resolved the other way (committed, rolled back or discarded); its outcome never changes.</summary>
    TransactionAlreadyResolved = 27,
    /// <summary>The consumer group has live instances; the operation needs it stopped (as Kafka's offset reset).</summary>
    ConsumerGroupActive = 38,
    /// <summary>The message's kind does not fit the topic's message type (e.g. a delay or transaction message sent to a FIFO topic).</summary>
    MessageTypeMismatch = 30,
    /// <summary>Another live instance of the broadcasting group already uses this instance name (broadcast offsets are kept per instance name).</summary>
    InstanceNameInUse = 31,
}
