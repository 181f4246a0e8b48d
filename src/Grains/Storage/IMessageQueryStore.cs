using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Storage;

/// <summary>
/// The message log's query paths (RocketMQ's queryMsgById, queryMsgByKey, queryMsgByOffset and
/// searchOffset by time) and its retention deletes. Reads see committed rows only.
/// </summary>
internal interface IMessageQueryStore
{
    /// <summary>Every stored row with this message id, oldest first (copies on retry or dead-letter topics share the id).</summary>
    Task<IReadOnlyList<MessageExt>> FindByIdAsync(string msgId, int maxResults, CancellationToken cancellationToken = default);

    /// <summary>Messages of a topic carrying <paramref name="key"/>, stored in [from, to), oldest first.</summary>
    Task<IReadOnlyList<MessageExt>> FindByKeyAsync(string topic, string key, DateTimeOffset from, DateTimeOffset to, int maxResults, CancellationToken cancellationToken = default);

    /// <summary>The message at one queue offset, or null when it is not (or no longer) stored.</summary>
    Task<MessageExt?> FindAtAsync(string topic, int queueId, long offset, CancellationToken cancellationToken = default);

    /// <summary>
    /// The first offset of the queue stored at or after <paramref name="time"/>: the queue's next offset when
    /// everything is older, its min offset when everything is newer. Binary search over the primary key.
    /// </summary>
    Task<long> SearchOffsetAsync(string topic, int queueId, DateTimeOffset time, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the queue's messages below <paramref name="beforeOffset"/>, at most <paramref name="maxRows"/> of them
    /// (the lowest ones), in one short statement. Returns how many were removed.
    /// </summary>
    Task<int> DeleteBeforeAsync(string topic, int queueId, long beforeOffset, int maxRows, CancellationToken cancellationToken = default);
}

internal static class MessageQueryStoreExtensions
{
    /// <summary>The message at one queue offset; MessageNotFound when it is not (or no longer) stored.</summary>
    public static async Task<MessageExt> RequireAtAsync(this IMessageQueryStore store, string topic, int queueId, long offset) =>
        await store.FindAtAsync(topic, queueId, offset)
        ?? throw new MQException(MQErrorCode.MessageNotFound, $"no message is stored at {topic}:{queueId} offset {offset}");
}
