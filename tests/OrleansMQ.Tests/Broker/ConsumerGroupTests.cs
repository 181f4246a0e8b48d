using OrleansMQ.ConsumerGroups;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Validation;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class ConsumerGroupTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    private static ConsumerHeartbeat Beat(string clientId, string expression = "*") =>
        new(clientId, [new Subscription("orders", expression)], MessageModel.Clustering, ConsumeFromWhere.LastOffset, "host-" + clientId);

    [Fact]
    public async Task Heartbeat_returns_the_sorted_client_ids_and_the_version_changes_on_join_change_and_leave()
    {
        var group = _grains.GetGrain<IConsumerGroupGrain>(TestData.UniqueName("group"));

        var first = await group.Heartbeat(Beat("client-b"));
        var second = await group.Heartbeat(Beat("client-c"));
        var third = await group.Heartbeat(Beat("client-a"));
        var again = await group.Heartbeat(Beat("client-b"));
        var resubscribed = await group.Heartbeat(Beat("client-b", "TagA || TagB"));
        var left = await group.Unregister("client-c");
        var unknownLeft = await group.Unregister("client-never-joined");

        Assert.Equal(["client-b"], first.ClientIds);
        Assert.Equal(["client-b", "client-c"], second.ClientIds);
        Assert.Equal(["client-a", "client-b", "client-c"], third.ClientIds);
        Assert.NotEqual(first.Version, second.Version);
        Assert.NotEqual(second.Version, third.Version);
        Assert.Equal(third.Version, again.Version);
        Assert.Equal(third.ClientIds, again.ClientIds);
        Assert.Equal(third.ClientIds, resubscribed.ClientIds);
        Assert.NotEqual(again.Version, resubscribed.Version);
        Assert.Equal(["client-a", "client-b"], left.ClientIds);
        Assert.NotEqual(resubscribed.Version, left.Version);
        Assert.Equal(left.Version, unknownLeft.Version);
        Assert.Equal(left.ClientIds, unknownLeft.ClientIds);

        var instances = await group.GetInstances();
        Assert.Equal(["client-a", "client-b"], instances.Select(i => i.ClientId));
        var b = instances[1];
        Assert.Equal(("host-client-b", MessageModel.Clustering), (b.Host, b.MessageModel));
        Assert.Equal("TagA || TagB", Assert.Single(b.Subscriptions).Expression);
    }

    [Fact]
    public async Task Instance_that_stops_heartbeating_is_dropped_after_the_consumer_expiry()
    {
        var group = _grains.GetGrain<IConsumerGroupGrain>(TestData.UniqueName("group-expiry"));
        await group.Heartbeat(Beat("silent"));
        var joined = await group.Heartbeat(Beat("alive"));
        Assert.Equal(["alive", "silent"], joined.ClientIds);

        // "alive" keeps heart-beating (well inside the expiry); "silent" does not.
        var membership = await Eventually.PollAsync(
            async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(400));
                return await group.Heartbeat(Beat("alive"));
            },
            m => !m.ClientIds.Contains("silent"),
            TestSiloConfigurator.ConsumerExpiry * 4,
            "the silent instance to expire");

        Assert.Equal(["alive"], membership.ClientIds);
        Assert.NotEqual(joined.Version, membership.Version);
        Assert.Equal(["alive"], (await group.GetInstances()).Select(i => i.ClientId));
    }

    [Fact]
    public async Task Bad_heartbeats_are_refused_with_typed_errors()
    {
        var good = _grains.GetGrain<IConsumerGroupGrain>(TestData.UniqueName("group-bad"));

        var noId = await Assert.ThrowsAsync<MQException>(() => good.Heartbeat(Beat("")));
        var badExpression = await Assert.ThrowsAsync<MQException>(() => good.Heartbeat(Beat("c1", "a ||")));
        var badTopic = await Assert.ThrowsAsync<MQException>(() => good.Heartbeat(new ConsumerHeartbeat("c1", [new Subscription("a b", "*")], MessageModel.Clustering, ConsumeFromWhere.LastOffset)));
        var badGroup = await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IConsumerGroupGrain>("bad group!").Heartbeat(Beat("c1")));
        var reserved = await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IConsumerGroupGrain>("DEFAULT_CONSUMER").Heartbeat(Beat("c1")));

        Assert.Equal(MQErrorCode.InvalidArgument, noId.Code);
        Assert.Equal(MQErrorCode.InvalidFilterExpression, badExpression.Code);
        Assert.Equal(MQErrorCode.InvalidTopicName, badTopic.Code);
        Assert.Equal(MQErrorCode.InvalidGroupName, badGroup.Code);
        Assert.Equal(MQErrorCode.ReservedName, reserved.Code);
        Assert.Empty(await good.GetInstances());
    }

    [Fact]
    public async Task Deleting_a_group_removes_its_offsets_everywhere_and_its_retry_and_dead_letter_topics_but_no_message()
    {
        var group = UniqueName("group-delete");
        var orders = await _grains.CreateTopicAsync("gd-orders", queues: 2);
        var audit = await _grains.CreateTopicAsync("gd-audit", queues: 1);
        await _grains.Queue(orders, 0).AppendAsync(3);
        await _grains.Queue(audit, 0).AppendAsync(2);
        await _grains.Queue(orders, 0).CommitOffset(group, 2, flush: true);
        // Committed in memory only: the queue grain writes it on its next offset flush, which the delete must wait for.
        await _grains.Queue(audit, 0).CommitOffset(group, 1, flush: false);
        await _grains.Queue(orders, 0).CommitOffset("group-delete-other", 1, flush: true);
        await _grains.Topic(Names.RetryTopic(group)).EnsureSystemTopic(1);
        await _grains.Topic(Names.DlqTopic(group)).EnsureSystemTopic(1);

        var deletion = await _grains.GetGrain<IConsumerGroupGrain>(group).Delete(keepDeadLetters: false);

        Assert.Equal(2, deletion.OffsetsRemoved);
        Assert.Equal([Names.RetryTopic(group), Names.DlqTopic(group)], deletion.TopicsDeleted);
        Assert.Equal(-1, await _grains.Queue(orders, 0).GetCommittedOffset(group));
        Assert.Equal(-1, await _grains.Queue(audit, 0).GetCommittedOffset(group));
        Assert.Null(await _grains.Topic(Names.DlqTopic(group)).GetConfig());
        // Another group's next offset flush on the same queue must not bring the deleted group's offset back.
        await _grains.Queue(orders, 0).CommitOffset("group-delete-other", 2, flush: true);
        await Task.Delay(TestSiloConfigurator.OffsetFlushInterval * 2);
        Assert.Equal(0, await _db.CountGroupOffsetsAsync(group));
        Assert.Equal(1, await _db.CountGroupOffsetsAsync("group-delete-other"));
        Assert.Equal(5, await _db.CountMessagesAsync(orders) + await _db.CountMessagesAsync(audit));
        Assert.DoesNotContain(group, await _grains.GetGrain<Admin.IAdminGrain>(0).ListGroups());
    }

    [Fact]
    public async Task A_group_with_a_live_instance_is_not_deleted_and_keep_dead_letters_keeps_the_DLQ()
    {
        var group = UniqueName("group-delete-live");
        var topic = await _grains.CreateTopicAsync("gd-live", queues: 1);
        await _grains.Queue(topic, 0).AppendAsync(2);
        await _grains.Queue(topic, 0).CommitOffset(group, 2, flush: true);
        await _grains.Topic(Names.DlqTopic(group)).EnsureSystemTopic(1);
        var grain = _grains.GetGrain<IConsumerGroupGrain>(group);
        await grain.Heartbeat(Beat("still-here"));

        var refused = await Assert.ThrowsAsync<MQException>(() => grain.Delete(keepDeadLetters: true));

        Assert.Equal(MQErrorCode.ConsumerGroupActive, refused.Code);
        Assert.Contains("still-here", refused.Message);
        Assert.Equal(2, await _grains.Queue(topic, 0).GetCommittedOffset(group));
        Assert.Equal(1, await _db.CountGroupOffsetsAsync(group));

        await grain.Unregister("still-here");
        var deletion = await grain.Delete(keepDeadLetters: true);

        Assert.Equal(1, deletion.OffsetsRemoved);
        Assert.Empty(deletion.TopicsDeleted);
        Assert.NotNull(await _grains.Topic(Names.DlqTopic(group)).GetConfig());
        Assert.Equal(-1, await _grains.Queue(topic, 0).GetCommittedOffset(group));
    }
}
