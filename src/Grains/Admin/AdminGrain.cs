using Microsoft.Extensions.Options;
using OrleansMQ.Admin;
using OrleansMQ.Delay;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Grains.Delay;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Admin;

/// <summary>Operator reads, derived on each call from Postgres and the topic, queue and group grains.</summary>
[StatelessWorker]
internal sealed class AdminGrain(ITopicStore topics, IOffsetStore offsets, IMessageQueryStore messages, IOptions<BrokerOptions> options)
    : Grain, IAdminGrain
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

    public async Task<IReadOnlyList<MessageTrack>> TrackMessage(string topic, int queueId, long offset)
    {
        Names.CheckReadableTopic(topic);
        var config = TopicRecord.RequireLive(await topics.GetAsync(topic), topic);
        config.CheckQueueId(queueId);
        var message = await messages.RequireAtAsync(topic, queueId, offset);
        if (ScheduleTopics.IsScheduleTopic(topic))
        {
            return [ScheduledTrack(message)];
        }
        var queue = GrainFactory.GetGrain<IQueueGrain>(queueId, topic);
        var tracks = await Task.WhenAll((await offsets.GroupsOfTopicAsync(topic)).Select(async group =>
        {
            var committed = await queue.GetCommittedOffset(group);
            var instances = await GrainFactory.GetGrain<IConsumerGroupGrain>(group).GetInstances();
            var subscriptions = instances.SelectMany(i => i.Subscriptions).Where(s => s.Topic == topic).Distinct().ToList();
            if (committed > offset)
            {
                var refusing = subscriptions.FirstOrDefault(s => !MessageFilter.Compile(s.ExpressionType, s.Expression).Matches(message));
                return refusing is null
                    ? new MessageTrack(group, MessageTrackType.Consumed, committed, $"committed offset {committed} is past {offset}")
                    : new MessageTrack(group, MessageTrackType.ConsumedButFiltered, committed, $"its subscription '{refusing.Describe()}' does not take this message");
            }
            return subscriptions.Count > 0
                ? new MessageTrack(group, MessageTrackType.NotConsumedYet, committed, $"committed offset {committed} has not reached {offset}")
                : new MessageTrack(group, MessageTrackType.NotOnline, committed,
                    instances.Count == 0 ? "no live instance" : "no live instance subscribes to the topic");
        }));
        return tracks;
    }

    /// <summary>The one track of a schedule copy: when it is due and where it goes then.</summary>
    private MessageTrack ScheduledTrack(MessageExt copy)
    {
        var realTopic = ScheduledMessages.TryDestination(copy)?.Topic ?? "its topic";
        var when = ScheduledMessages.TryDue(copy, options.Value.DelayTable) is { } d ? $"due at {d.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z" : "due time unknown";
        return new MessageTrack(ScheduleTopics.ScheduleReaderGroup, MessageTrackType.Scheduled, -1,
            $"schedule copy for {realTopic}, {when}; the copy stored there when due has the groups' tracks");
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
