namespace OrleansMQ.Topics;

/// <summary>What kind of messages a topic carries (RocketMQ 5 message types).</summary>
public enum TopicMessageType
{
    Normal = 0,
    Fifo = 1,
    Delay = 2,
    Transaction = 3,
}

/// <summary>Read/write permission of a topic, as RocketMQ's perm (6 = read and write).</summary>
[Flags]
public enum TopicPermission
{
    None = 0,
    Write = 2,
    Read = 4,
    ReadWrite = Read | Write,
}

/// <summary>A topic's configuration, persisted in Postgres by the topic grain.</summary>
[GenerateSerializer, Immutable]
public sealed record TopicConfig(
    [property: Id(0)] string Name,
    [property: Id(1)] int Queues,
    [property: Id(2)] TopicPermission Permission = TopicPermission.ReadWrite,
    [property: Id(3)] TopicMessageType MessageType = TopicMessageType.Normal,
    [property: Id(4)] int RetentionHours = 72)
{
    /// <summary>Throws QueueNotFound unless the topic has a queue <paramref name="queueId"/>.</summary>
    public void CheckQueueId(int queueId)
    {
        if (queueId < 0 || queueId >= Queues)
        {
            throw new MQException(MQErrorCode.QueueNotFound, $"topic '{Name}' has queues 0 to {Queues - 1}; queue {queueId} does not exist");
        }
    }

    /// <summary>When the topic was created.</summary>
    [Id(5)]
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// A change to a live topic (mqadmin updateTopic / updateTopicPerm); null leaves that setting as it is. The queue count
/// may only grow: the queues a topic has hold messages and consumer offsets.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TopicUpdate(
    [property: Id(0)] int? Queues = null,
    [property: Id(1)] TopicPermission? Permission = null,
    [property: Id(2)] TopicMessageType? MessageType = null,
    [property: Id(3)] int? RetentionHours = null)
{
    /// <summary>True when the update changes nothing.</summary>
    public bool IsEmpty => Queues is null && Permission is null && MessageType is null && RetentionHours is null;

    /// <summary>
    /// Throws InvalidArgument for a value no topic may have. Whether the change fits the topic (the queue count only
    /// grows) is the topic grain's check.
    /// </summary>
    public void CheckValues()
    {
        if (IsEmpty)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "the update changes nothing: give a queue count, permission, message type or retention");
        }
        if (Queues is < 1 or > Validation.Limits.MaxQueues)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"queue count {Queues} is out of range; allowed 1 to {Validation.Limits.MaxQueues}");
        }
        if (Permission is { } permission && permission is not (TopicPermission.Read or TopicPermission.Write or TopicPermission.ReadWrite))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"permission {(int)permission} is not one of 2 (write), 4 (read) or 6 (read and write)");
        }
        if (MessageType is { } type && !Enum.IsDefined(type))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"message type {(int)type} is not one of normal, fifo, delay or transaction");
        }
        if (RetentionHours < 1)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"retention {RetentionHours} h is out of range; at least 1 hour");
        }
    }
}

/// <summary>What a producer or consumer needs to address a topic's queues.</summary>
[GenerateSerializer, Immutable]
public sealed record TopicRoute(
    [property: Id(0)] string Topic,
    [property: Id(1)] int Queues,
    [property: Id(2)] TopicPermission Permission,
    [property: Id(3)] TopicMessageType MessageType);

/// <summary>One queue's span, as mqadmin topicStatus prints it.</summary>
[GenerateSerializer, Immutable]
public sealed record QueueStatus(
    [property: Id(0)] int QueueId,
    [property: Id(1)] long MinOffset,
    [property: Id(2)] long MaxOffset,
    [property: Id(3)] DateTimeOffset? LastStoredAt);
