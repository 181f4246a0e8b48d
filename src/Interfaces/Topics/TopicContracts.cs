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
