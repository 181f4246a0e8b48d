using OrleansMQ.Admin;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class AdminTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;

    private IAdminGrain Admin => _grains.GetGrain<IAdminGrain>(0);

    [Fact]
    public async Task ListTopics_lists_created_topics_and_not_deleted_ones()
    {
        var kept = await _grains.CreateTopicAsync("admin-kept", queues: 3);
        var deleted = await _grains.CreateTopicAsync("admin-deleted", queues: 1);
        var auto = TestData.UniqueName("admin-auto");
        await _grains.Topic(auto).GetRoute(autoCreate: true);
        await _grains.Topic(deleted).Delete();

        var topics = await Admin.ListTopics();

        Assert.Equal(3, Assert.Single(topics, t => t.Name == kept).Queues);
        Assert.Equal(4, Assert.Single(topics, t => t.Name == auto).Queues);
        Assert.DoesNotContain(topics, t => t.Name == deleted);
        Assert.Equal(topics.Select(t => t.Name).Order(StringComparer.Ordinal), topics.Select(t => t.Name));
    }

    [Fact]
    public async Task GetGroupProgress_shows_broker_offset_consumer_offset_and_lag_per_queue()
    {
        var topic = await _grains.CreateTopicAsync("admin-progress", queues: 3);
        var group = TestData.UniqueName("progress");
        await _grains.Queue(topic, 0).AppendAsync(5);
        await _grains.Queue(topic, 1).AppendAsync(3);
        await _grains.Queue(topic, 0).CommitOffset(group, 2, flush: true);
        await _grains.Queue(topic, 1).CommitOffset(group, 3, flush: true);

        var progress = await Admin.GetGroupProgress(group);

        Assert.Equal(
            [(topic, 0, 5L, 2L, 3L), (topic, 1, 3L, 3L, 0L), (topic, 2, 0L, -1L, 0L)],
            progress.Select(p => (p.Topic, p.QueueId, p.BrokerOffset, p.ConsumerOffset, p.Lag)));
        Assert.NotNull(progress[0].LastStoredAt);
        Assert.Null(progress[2].LastStoredAt);
    }

    [Fact]
    public async Task GetGroupProgress_includes_topics_a_live_consumer_subscribes_to_before_it_commits()
    {
        var topic = await _grains.CreateTopicAsync("admin-subscribed", queues: 2);
        var group = TestData.UniqueName("subscriber");
        await _grains.Queue(topic, 1).AppendAsync(4);
        await _grains.GetGrain<IConsumerGroupGrain>(group).Heartbeat(
            new ConsumerHeartbeat("c1", [new Subscription(topic, "*")], MessageModel.Clustering, ConsumeFromWhere.FirstOffset));

        var progress = await Admin.GetGroupProgress(group);

        Assert.Equal([(0, 0L, -1L, 0L), (1, 4L, -1L, 4L)], progress.Select(p => (p.QueueId, p.BrokerOffset, p.ConsumerOffset, p.Lag)));
        Assert.Empty(await Admin.GetGroupProgress(TestData.UniqueName("nobody")));
    }

    [Fact]
    public async Task ListGroups_knows_groups_with_committed_offsets_or_a_retry_topic()
    {
        var topic = await _grains.CreateTopicAsync("admin-groups", queues: 1);
        var committed = TestData.UniqueName("committed");
        var retrying = TestData.UniqueName("retrying");
        var silent = TestData.UniqueName("silent");
        await _grains.Queue(topic, 0).AppendAsync(2);
        await _grains.Queue(topic, 0).CommitOffset(committed, 1, flush: true);
        await _grains.GetGrain<OrleansMQ.Retry.IRetryGrain>(retrying).EnsureRetryTopic();

        var groups = await Admin.ListGroups();

        Assert.Contains(committed, groups);
        Assert.Contains(retrying, groups);
        Assert.DoesNotContain(silent, groups);
        Assert.Equal(groups.Order(StringComparer.Ordinal), groups);
    }

    [Fact]
    public async Task GetGroupProgress_of_an_invalid_group_fails_with_InvalidGroupName()
    {
        var e = await Assert.ThrowsAsync<MQException>(() => Admin.GetGroupProgress("bad group!"));

        Assert.Equal(MQErrorCode.InvalidGroupName, e.Code);
    }
}
