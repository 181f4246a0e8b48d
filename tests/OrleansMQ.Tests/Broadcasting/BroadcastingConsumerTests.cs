using System.Collections.Concurrent;
using OrleansMQ.Broadcasting;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Ordered.OrderedTestKit;

namespace OrleansMQ.Tests.Broadcasting;

/// <summary>Broadcasting: every instance gets every message once, keeps its own offsets in Postgres, and resumes after a restart.</summary>
[Collection(BrokerCollection.Name)]
public sealed class BroadcastingConsumerTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    private sealed class Received
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<MessageExt>> _byInstance = new();

        public Func<IReadOnlyList<MessageExt>, ConsumeConcurrentlyContext, CancellationToken, Task<ConsumeResult>> ListenerFor(string instance) =>
            (messages, _, _) =>
            {
                var mine = _byInstance.GetOrAdd(instance, _ => new ConcurrentQueue<MessageExt>());
                foreach (var message in messages) mine.Enqueue(message);
                return Task.FromResult(ConsumeResult.Success);
            };

        public List<MessageExt> Of(string instance) => _byInstance.TryGetValue(instance, out var q) ? [.. q] : [];
    }

    private PushConsumer Broadcasting(string group, string instance, string topic, Received received, ConsumeFromWhere from = ConsumeFromWhere.FirstOffset)
    {
        var options = Options(group, from: from);
        options.MessageModel = MessageModel.Broadcasting;
        options.InstanceName = instance;
        var consumer = new PushConsumer(_grains, options);
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener(received.ListenerFor(instance));
        return consumer;
    }

    private async Task<List<string>> SendAsync(string topic, int count, string prefix)
    {
        await using var producer = new Producer(_grains);
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => producer.SendAsync(new Message(topic, $"{prefix}{i}"))));
        return [.. results.Select(r => r.MsgId)];
    }

    private static Task WaitForAsync(Func<bool> condition, string what) =>
        Eventually.PollAsync(() => Task.FromResult(condition()), done => done, Guard, what);

    [Fact]
    public async Task Three_instances_each_get_every_message_exactly_once_across_a_restart_of_one()
    {
        var topic = await _grains.CreateTopicAsync("bc-all", 4);
        var group = UniqueName("g");
        var received = new Received();
        await using var one = Broadcasting(group, "one", topic, received);
        await using var three = Broadcasting(group, "three", topic, received);
        var two = Broadcasting(group, "two", topic, received);
        var sent = new List<string>();
        try
        {
            await Task.WhenAll(one.StartAsync(), two.StartAsync(), three.StartAsync());
            Assert.All(new[] { one, two, three }, c => Assert.Equal(4, c.Assignment.Count)); // every instance consumes every queue
            sent.AddRange(await SendAsync(topic, 60, "a"));
            await WaitForAsync(() => new[] { "one", "two", "three" }.All(i => received.Of(i).Count >= 60), "every instance to get the first 60");

            await two.StopAsync(); // flushes its offsets
            sent.AddRange(await SendAsync(topic, 40, "b"));
            two = Broadcasting(group, "two", topic, received); // same instance name: resumes from its own offsets
            await two.StartAsync();
            sent.AddRange(await SendAsync(topic, 20, "c"));
            await WaitForAsync(() => new[] { "one", "two", "three" }.All(i => received.Of(i).Count >= 120), "every instance to get all 120");
            await Task.Delay(500);
        }
        finally
        {
            await two.DisposeAsync();
        }

        foreach (var instance in new[] { "one", "two", "three" })
        {
            Assert.Equal(sent.Order(), received.Of(instance).Select(m => m.MsgId).Order());
        }
        // The offsets live in Postgres per instance, not in the group's offsets.
        Assert.Equal(12, await _db.CountBroadcastOffsetsAsync(group)); // 3 instances x 4 queues
        Assert.Equal(0, await _db.CountGroupOffsetsAsync(group));
    }

    [Fact]
    public async Task A_new_broadcasting_instance_starts_where_consume_from_where_says()
    {
        var topic = await _grains.CreateTopicAsync("bc-new", 2);
        var group = UniqueName("g");
        var old = await SendAsync(topic, 10, "old");
        var received = new Received();
        await using var fromLast = Broadcasting(group, "late", topic, received, ConsumeFromWhere.LastOffset);
        await using var fromFirst = Broadcasting(group, "early", topic, received, ConsumeFromWhere.FirstOffset);
        await fromLast.StartAsync();
        await fromFirst.StartAsync();
        // Start offsets are resolved (and committed) by the pull loops just after the start: wait for "late"'s.
        var late = _grains.GetGrain<IBroadcastOffsetGrain>(BroadcastOffsetKey.Of(group, "late"));
        await Eventually.PollAsync(async () => await late.GetOffset(new MessageQueue(topic, 0)) >= 0 && await late.GetOffset(new MessageQueue(topic, 1)) >= 0,
            done => done, Guard, "the late instance's start offsets");
        var fresh = await SendAsync(topic, 5, "new");

        await WaitForAsync(() => received.Of("late").Count >= 5 && received.Of("early").Count >= 15, "both instances' messages");
        Assert.Equal(fresh.Order(), received.Of("late").Select(m => m.MsgId).Order());
        Assert.Equal(old.Concat(fresh).Order(), received.Of("early").Select(m => m.MsgId).Order());
    }

    [Fact]
    public async Task Two_live_broadcasting_instances_cannot_share_an_instance_name()
    {
        var topic = await _grains.CreateTopicAsync("bc-name", 1);
        var group = UniqueName("g");
        var received = new Received();
        await using var first = Broadcasting(group, "same", topic, received);
        await using var second = Broadcasting(group, "same", topic, received);
        await first.StartAsync();

        var error = await Assert.ThrowsAsync<MQException>(() => second.StartAsync());
        Assert.Equal(MQErrorCode.InstanceNameInUse, error.Code);
        Assert.Contains("'same'", error.Message);
    }
}
