using OrleansMQ.Admin;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Admin;

/// <summary>Operator reads, derived on each call from Postgres and the topic, queue and group grains.</summary>
[StatelessWorker]
internal sealed class AdminGrain(ITopicStore topics, IOffsetStore offsets) : Grain, IAdminGrain
{
    public Task<IReadOnlyList<TopicConfig>> ListTopics() => topics.ListAsync();

    public async Task<IReadOnlyList<string>> ListGroups()
    {
        var names = new SortedSet<string>(await offsets.GroupsAsync(), StringComparer.Ordinal);
        foreach (var topic in await topics.ListAsync())
        {
            foreach (var prefix in (ReadOnlySpan<string>)[Names.RetryGroupTopicPrefix, Names.DlqGroupTopicPrefix])
            {
                if (topic.Name.StartsWith(prefix, StringComparison.Ordinal)) names.Add(topic.Name[prefix.Length..]);
            }
        }
        return [.. names];
    }

    public async Task<IReadOnlyList<QueueProgress>> GetGroupProgress(string group)
    {
        Names.CheckGroup(group);
        var names = new SortedSet<string>(await offsets.TopicsOfGroupAsync(group), StringComparer.Ordinal);
        foreach (var instance in await GrainFactory.GetGrain<IConsumerGroupGrain>(group).GetInstances())
        {
            foreach (var subscription in instance.Subscriptions) names.Add(subscription.Topic);
        }
        var result = new List<QueueProgress>();
        foreach (var name in names)
        {
            var record = await topics.GetAsync(name);
            if (record is not { IsDeleted: false }) continue;
            var queues = await Task.WhenAll(Enumerable.Range(0, record.Config.Queues)
                .Select(q => GrainFactory.GetGrain<IQueueGrain>(q, name).GetProgress(group)));
            result.AddRange(queues);
        }
        return result;
    }
}
