using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Queries;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Queries;

/// <summary>Message lookups straight from the store; one activation per silo as needed.</summary>
[StatelessWorker]
internal sealed class MessageQueryGrain(IMessageQueryStore store, ITopicStore topics) : Grain, IMessageQueryGrain
{
    public Task<IReadOnlyList<MessageExt>> QueryById(string msgId, int maxResults)
    {
        QueryRules.CheckMsgId(msgId);
        QueryRules.CheckMaxResults(maxResults);
        return store.FindByIdAsync(msgId.Trim(), maxResults);
    }

    public async Task<IReadOnlyList<MessageExt>> QueryByKey(string topic, string key, DateTimeOffset from, DateTimeOffset to, int maxResults)
    {
        await RequireTopicAsync(topic);
        QueryRules.CheckKey(key);
        QueryRules.CheckRange(from, to);
        QueryRules.CheckMaxResults(maxResults);
        return await store.FindByKeyAsync(topic, key, from, to, maxResults);
    }

    public async Task<MessageExt?> QueryByOffset(string topic, int queueId, long offset)
    {
        var config = await RequireTopicAsync(topic);
        config.CheckQueueId(queueId);
        if (offset < 0)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"offset {offset} is negative; queue offsets start at 0");
        }
        return await store.FindAtAsync(topic, queueId, offset);
    }

    public async Task<long> SearchOffset(string topic, int queueId, DateTimeOffset time)
    {
        var config = await RequireTopicAsync(topic);
        config.CheckQueueId(queueId);
        return await store.SearchOffsetAsync(topic, queueId, time);
    }

    private async Task<TopicConfig> RequireTopicAsync(string topic)
    {
        Names.CheckReadableTopic(topic);
        return TopicRecord.RequireLive(await topics.GetAsync(topic), topic);
    }
}
