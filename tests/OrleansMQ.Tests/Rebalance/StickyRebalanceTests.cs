using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Ordered.OrderedTestKit;

namespace OrleansMQ.Tests.Rebalance;

/// <summary>The sticky strategy in a live group: it reads the other instances' queues from the group grain and moves only the newcomer's share.</summary>
[Collection(BrokerCollection.Name)]
public sealed class StickyRebalanceTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task With_the_sticky_strategy_a_joining_instance_takes_its_share_and_nobody_else_loses_a_queue()
    {
        var topic = await _grains.CreateTopicAsync("sticky", 12);
        var group = UniqueName("g");
        var consumers = new List<PushConsumer>();
        PushConsumer Create(string name)
        {
            var options = Options(group, $"{name}-{Guid.NewGuid():N}");
            options.AllocateMessageQueueStrategy = AllocateMessageQueueSticky.Instance;
            var consumer = new PushConsumer(_grains, options);
            consumer.Subscribe(topic);
            consumer.RegisterMessageListener((_, _, _) => Task.FromResult(ConsumeResult.Success));
            consumers.Add(consumer);
            return consumer;
        }
        static bool Partitioned(IEnumerable<PushConsumer> group, int each) =>
            group.All(c => c.TopicQueues().Count == each) && group.SelectMany(c => c.TopicQueues()).Distinct().Count() == 12;
        try
        {
            var first = new[] { Create("a"), Create("b"), Create("c") };
            foreach (var consumer in first) await consumer.StartAsync();
            await Eventually.PollAsync(() => Task.FromResult(Partitioned(first, 4)), ok => ok, TimeSpan.FromSeconds(20), "3 x 4 queues");
            await Task.Delay(TimeSpan.FromSeconds(2.5)); // a periodic rebalance passes: the shares are stable
            Assert.True(Partitioned(first, 4));
            var before = first.ToDictionary(c => c.ClientId, c => c.TopicQueues().ToHashSet());

            var d = Create("d");
            await d.StartAsync();
            var all = first.Append(d).ToList();
            await Eventually.PollAsync(() => Task.FromResult(Partitioned(all, 3)), ok => ok, TimeSpan.FromSeconds(20), "4 x 3 queues");

            foreach (var consumer in first)
            {
                Assert.Subset(before[consumer.ClientId], consumer.TopicQueues().ToHashSet()); // kept 3 of its 4
            }
            var describe = await new AdminClient(_grains).GetGroupInstancesAsync(group);
            Assert.All(describe, i => Assert.Equal("STICKY", i.AllocateStrategy));
        }
        finally
        {
            foreach (var consumer in consumers) await consumer.DisposeAsync();
        }
    }
}
