using OrleansMQ.ConsumerGroups;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class ConsumerGroupTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;

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
}
