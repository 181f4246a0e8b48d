using OrleansMQ.Messages;
using OrleansMQ.Topics;

namespace OrleansMQ.Grains.Storage;

/// <summary>A message with the place and time the queue grain assigned it, ready to be committed.</summary>
internal readonly record struct MessageRow(string Topic, int QueueId, long QueueOffset, DateTimeOffset StoredAt, MessageData Message)
{
    public MessageExt ToMessageExt() => new(
        Topic, QueueId, QueueOffset, Message.MsgId, Message.Tag, Message.Keys, Message.Body, Message.Properties,
        PostgresTime.Truncate(Message.BornAt), StoredAt, Message.ReconsumeTimes, Message.ProducerGroup, Message.BornHost);
}

/// <summary>Postgres keeps timestamps to the microsecond; times served from memory are cut the same way.</summary>
internal static class PostgresTime
{
    public static DateTimeOffset Truncate(DateTimeOffset time) => new(time.Ticks - time.Ticks % TimeSpan.TicksPerMicrosecond, time.Offset);
}

/// <summary>The stored span of one queue: the first offset still stored, the next one to write, and when the last was stored.</summary>
internal readonly record struct QueueBounds(long MinOffset, long NextOffset, DateTimeOffset? LastStoredAt);

/// <summary>A topic row, including the tombstone of a deleted topic.</summary>
internal sealed record TopicRecord(TopicConfig Config, DateTimeOffset? DeletedAt)
{
    public bool IsDeleted => DeletedAt is not null;

    /// <summary>The config of a live topic; TopicNotFound (with <paramref name="notFoundHint"/>) or TopicDeleted otherwise.</summary>
    public static TopicConfig RequireLive(TopicRecord? record, string topic, string notFoundHint = "")
    {
        if (record is null)
        {
            throw new MQException(MQErrorCode.TopicNotFound, $"topic '{topic}' does not exist{notFoundHint}");
        }
        if (record.IsDeleted)
        {
            throw new MQException(MQErrorCode.TopicDeleted, $"topic '{topic}' was deleted at {record.DeletedAt:u}; create it again to use it");
        }
        return record.Config;
    }
}

/// <summary>The message log. One Postgres implementation; grains see RocketMQ semantics, never SQL.</summary>
internal interface IMessageStore
{
    /// <summary>
    /// Commits rows of one queue atomically, sharing the commit with other queues' rows where it can.
    /// Throws <see cref="MQException"/> StoreConflict when an offset is already taken (the fence), or
    /// StoreUnavailable when Postgres failed; in both cases none of these rows is stored.
    /// </summary>
    Task AppendAsync(IReadOnlyList<MessageRow> rows, CancellationToken cancellationToken = default);

    /// <summary>The stored span of a queue.</summary>
    Task<QueueBounds> GetBoundsAsync(string topic, int queueId, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxCount"/> messages from <paramref name="fromOffset"/> on, in offset order.</summary>
    Task<IReadOnlyList<MessageExt>> ReadAsync(string topic, int queueId, long fromOffset, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Removes every message of a topic.</summary>
    Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default);
}

/// <summary>Committed consumer offsets.</summary>
internal interface IOffsetStore
{
    /// <summary>Every group's committed offset on one queue.</summary>
    Task<Dictionary<string, long>> LoadAsync(string topic, int queueId, CancellationToken cancellationToken = default);

    /// <summary>Upserts offsets of one queue.</summary>
    Task SaveAsync(string topic, int queueId, IReadOnlyCollection<KeyValuePair<string, long>> offsets, CancellationToken cancellationToken = default);

    /// <summary>Groups that have committed offsets on a topic.</summary>
    Task<IReadOnlyList<string>> GroupsOfTopicAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Topics on which a group has committed offsets.</summary>
    Task<IReadOnlyList<string>> TopicsOfGroupAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>Every group that left a trace in the store: committed offsets, broadcasting instances' offsets, or orderly-lock state.</summary>
    Task<IReadOnlyList<string>> GroupsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a group's committed offsets, its broadcasting instances' offsets and its group row (only once its lock
    /// horizon has passed, which a re-activated group grain still needs before that). Returns the offset rows removed.
    /// </summary>
    Task<long> DeleteGroupAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>Removes every offset on a topic.</summary>
    Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default);
}

/// <summary>Topic configuration.</summary>
internal interface ITopicStore
{
    Task<TopicRecord?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Creates the topic, or revives a deleted one. Returns false when a live topic of that name exists.</summary>
    Task<bool> CreateAsync(TopicConfig config, CancellationToken cancellationToken = default);

    Task MarkDeletedAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Writes a live topic's new settings. Returns false when no live topic of that name has at most that many queues.</summary>
    Task<bool> UpdateAsync(TopicConfig config, CancellationToken cancellationToken = default);

    /// <summary>Creates (or revives) a broker-owned topic, or grows its queue count to at least <paramref name="config"/>'s.</summary>
    Task EnsureAsync(TopicConfig config, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TopicConfig>> ListAsync(CancellationToken cancellationToken = default);
}
