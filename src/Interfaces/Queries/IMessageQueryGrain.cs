using OrleansMQ.Messages;

namespace OrleansMQ.Queries;

/// <summary>
/// Message lookups for operators and tools (RocketMQ's queryMsgById, queryMsgByKey, queryMsgByOffset and
/// searchOffset). Stateless (key 0): every call reads committed rows from Postgres, so an acknowledged
/// message is visible here as soon as its send returns.
/// </summary>
public interface IMessageQueryGrain : IGrainWithIntegerKey
{
    /// <summary>Every stored copy of the message with this id (a retry or dead-letter copy keeps the id), oldest first.</summary>
    Task<IReadOnlyList<MessageExt>> QueryById(string msgId, int maxResults);

    /// <summary>Messages of <paramref name="topic"/> carrying <paramref name="key"/>, stored in [from, to), oldest first.</summary>
    Task<IReadOnlyList<MessageExt>> QueryByKey(string topic, string key, DateTimeOffset from, DateTimeOffset to, int maxResults);

    /// <summary>The message at one queue offset, or null when it is not (or no longer) stored.</summary>
    Task<MessageExt?> QueryByOffset(string topic, int queueId, long offset);

    /// <summary>
    /// The first offset of the queue stored at or after <paramref name="time"/>: where a consumer starts to re-read
    /// from that moment (message backtracking). The queue's max offset when everything is older, its min offset
    /// when everything is newer.
    /// </summary>
    Task<long> SearchOffset(string topic, int queueId, DateTimeOffset time);
}
