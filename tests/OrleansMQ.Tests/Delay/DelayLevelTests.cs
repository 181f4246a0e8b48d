using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Delay.ScheduleTestKit;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Delay;

/// <summary>
/// Delay levels on the shared cluster (its table is <see cref="TestSiloConfigurator.DelayLevels"/>, 200 ms apart):
/// a delayed message is durable at once, invisible until due, delivered to the queue picked for it, never early.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class DelayLevelTests(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task Every_level_delivers_no_earlier_than_due_and_within_the_bound()
    {
        var table = DelayLevelTable.Parse(TestSiloConfigurator.DelayLevels);
        var topic = await _grains.CreateTopicAsync("delay-levels", 2);
        await using var producer = new Producer(_grains);
        var sent = await Task.WhenAll(Enumerable.Range(1, table.Count).Select(level =>
            producer.SendAsync(new Message(topic, $"level {level}") { DelayLevel = level, Keys = [$"L{level}"] })));

        var delivered = await WaitForMessagesAsync(_grains, topic, 2, table.Count, Guard);
        var lateness = new List<TimeSpan>();
        foreach (var result in sent)
        {
            var message = Assert.Single(delivered, m => m.MsgId == result.MsgId);
            var level = int.Parse(message.Keys[0][1..], System.Globalization.CultureInfo.InvariantCulture);
            var due = result.StoredAt + table.DelayOf(level);
            Assert.Equal(result.Queue, message.Queue); // delivered where the producer picked, as a normal send
            Assert.True(message.StoredAt >= due, $"level {level} was delivered {due - message.StoredAt} early");
            lateness.Add(message.StoredAt - due);
            Assert.Null(message.GetProperty(MessageConst.RealTopic)); // the schedule's own properties are gone
            Assert.Equal(new MessageQueue(ScheduleTopics.DelayTopic, level - 1), result.ScheduleQueue);
        }
        lateness.Sort();
        output.WriteLine($"lateness over {lateness.Count} levels: p50 {lateness[lateness.Count / 2].TotalMilliseconds:0} ms, max {lateness[^1].TotalMilliseconds:0} ms");
        Assert.All(lateness, l => Assert.True(l < LatenessBound, $"a delivery was {l.TotalMilliseconds:0} ms late"));
    }

    [Fact]
    public async Task A_delayed_message_is_invisible_until_due_and_keeps_its_body_tag_keys_and_properties()
    {
        var topic = await _grains.CreateTopicAsync("delay-invisible", 1);
        await using var producer = new Producer(_grains);
        var message = new Message(topic, "later") { DelayLevel = 10, Tag = "t1", Keys = ["k1"] }; // 2 s
        message.Properties["region"] = "eu";
        var result = await producer.SendAsync(message);

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(await ReadAllAsync(_grains, topic, 1));

        var delivered = Assert.Single(await WaitForMessagesAsync(_grains, topic, 1, 1, Guard));
        Assert.Equal(result.MsgId, delivered.MsgId);
        Assert.Equal("later", delivered.BodyAsString());
        Assert.Equal("t1", delivered.Tag);
        Assert.Equal(["k1"], delivered.Keys);
        Assert.Equal("eu", delivered.GetProperty("region"));
        Assert.True(delivered.StoredAt >= result.StoredAt + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_message_delivered_past_a_failed_one_is_not_delivered_again_while_the_level_retries()
    {
        const int level = 5; // 1 s in the test table: time to make the first destination refuse before it is due
        var blocked = await _grains.CreateTopicAsync("delay-blocked", 1);
        var open = await _grains.CreateTopicAsync("delay-open", 1);
        await using var producer = new Producer(_grains);
        var first = await producer.SendAsync(new Message(blocked, "first") { DelayLevel = level });
        var second = await producer.SendAsync(new Message(open, "second") { DelayLevel = level });
        await _grains.Topic(blocked).Update(new Topics.TopicUpdate(Permission: Topics.TopicPermission.Read));
        try
        {
            // The level fails on 'first' (its topic refuses writes) and retries every second; 'second', after it in
            // the level, is delivered meanwhile, and must stay delivered once.
            await WaitForMessagesAsync(_grains, open, 1, 1, Guard);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Single(await ReadAllAsync(_grains, open, 1));
        }
        finally
        {
            await _grains.Topic(blocked).Update(new Topics.TopicUpdate(Permission: Topics.TopicPermission.ReadWrite));
        }
        var late = Assert.Single(await WaitForMessagesAsync(_grains, blocked, 1, 1, Guard));
        Assert.Equal(first.MsgId, late.MsgId);
        Assert.Equal(second.MsgId, Assert.Single(await ReadAllAsync(_grains, open, 1)).MsgId);
    }

    [Fact]
    public async Task One_level_delivers_in_send_order_per_queue()
    {
        var topic = await _grains.CreateTopicAsync("delay-fifo", 1);
        await using var producer = new Producer(_grains);
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await producer.SendAsync(new Message(topic, $"m{i}") { DelayLevel = 2 })).MsgId);
        }
        var delivered = await WaitForMessagesAsync(_grains, topic, 1, 20, Guard);
        Assert.Equal(ids, delivered.OrderBy(m => m.QueueOffset).Select(m => m.MsgId));
    }

    [Fact]
    public async Task An_unknown_level_is_a_typed_error_and_nothing_is_stored()
    {
        var topic = await _grains.CreateTopicAsync("delay-unknown", 1);
        await using var producer = new Producer(_grains);
        var beyond = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(new Message(topic, "x") { DelayLevel = 19 }));
        Assert.Equal(MQErrorCode.InvalidDelayLevel, beyond.Code);
        Assert.Contains("levels 1 to 18", beyond.Message);
        var negative = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(new Message(topic, "x") { DelayLevel = -1 }));
        Assert.Equal(MQErrorCode.InvalidDelayLevel, negative.Code);
        var batch = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync([new Message(topic, "x") { DelayLevel = 1 }]));
        Assert.Equal(MQErrorCode.InvalidBatch, batch.Code);
        var reserved = new Message(topic, "x");
        reserved.Properties[MessageConst.DelayLevel] = "3";
        Assert.Equal(MQErrorCode.InvalidProperties, (await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(reserved))).Code);

        await Task.Delay(500);
        Assert.Empty(await ReadAllAsync(_grains, topic, 1));
    }

    [Fact]
    public async Task The_schedule_refuses_a_destination_that_does_not_exist()
    {
        var data = Message("x", properties: new Dictionary<string, string> { [MessageConst.RealTopic] = UniqueName("nowhere"), [MessageConst.RealQueueId] = "0" });
        var missing = await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IDelayLevelGrain>(1).Schedule(Batch(data)));
        Assert.Equal(MQErrorCode.TopicNotFound, missing.Code);

        var topic = await _grains.CreateTopicAsync("delay-badqueue", 1);
        var badQueue = Message("x", properties: new Dictionary<string, string> { [MessageConst.RealTopic] = topic, [MessageConst.RealQueueId] = "5" });
        Assert.Equal(MQErrorCode.QueueNotFound, (await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IDelayLevelGrain>(1).Schedule(Batch(badQueue)))).Code);
        var noDestination = Message("x");
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IDelayLevelGrain>(1).Schedule(Batch(noDestination)))).Code);
    }

    [Fact]
    public async Task Delay_status_shows_pending_messages_and_the_lateness_of_deliveries()
    {
        var topic = await _grains.CreateTopicAsync("delay-status", 1);
        await using var producer = new Producer(_grains);
        var admin = new AdminClient(_grains);
        const int level = 15; // 3 s
        await producer.SendAsync(new Message(topic, "a") { DelayLevel = level });
        var pending = (await admin.GetScheduleStatusAsync()).Single(s => s.Kind == ScheduleKind.DelayLevel && s.Id == level);
        Assert.True(pending.Pending >= 1);
        Assert.NotNull(pending.NextDueAt);
        Assert.Equal(TimeSpan.FromSeconds(3), pending.Delay);

        await WaitForMessagesAsync(_grains, topic, 1, 1, Guard);
        var after = await Eventually.PollAsync(async () => (await admin.GetScheduleStatusAsync()).Single(s => s.Kind == ScheduleKind.DelayLevel && s.Id == level),
            s => s.Delivered >= 1, Guard, "the level to report its delivery");
        Assert.True(after.Lateness.Samples >= 1);
        Assert.True(after.Lateness.Max < LatenessBound);
        Assert.Equal(18, (await admin.GetDelayTableAsync()).Count);
    }

    [Fact]
    public async Task The_schedule_topic_is_the_brokers_and_producers_cannot_route_to_it()
    {
        await _grains.GetGrain<IDelayLevelGrain>(1).GetStatus(); // the level exists, so its topic does
        var config = await _grains.Topic(ScheduleTopics.DelayTopic).GetConfig();
        Assert.Equal(18, config!.Queues); // one queue per level
        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(ScheduleTopics.DelayTopic).GetRoute(autoCreate: true));
        Assert.Equal(MQErrorCode.ReservedName, e.Code);
        var create = await Assert.ThrowsAsync<MQException>(() => _grains.Topic("my-topic-" + Guid.NewGuid().ToString("N")).EnsureSystemTopic(1));
        Assert.Equal(MQErrorCode.InvalidArgument, create.Code);
    }
}
