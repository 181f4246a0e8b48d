using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Client;

/// <summary>The pull consumer against the shared test cluster: poll, explicit commits, restart after a commit, seek.</summary>
[Collection(BrokerCollection.Name)]
public sealed class PullConsumerTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;
    private readonly AdminClient _admin = new(fixture.Client);

    private static PullConsumerOptions Options(string group) => new()
    {
        ConsumerGroup = group,
        ConsumeFromWhere = ConsumeFromWhere.FirstOffset,
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        RebalanceInterval = TimeSpan.FromSeconds(2),
    };

    private async Task<(string Topic, List<SendResult> Sent)> TopicWithMessagesAsync(string prefix, int queues, int count)
    {
        var topic = UniqueName(prefix);
        await _admin.CreateTopicAsync(topic, queues);
        await using var producer = new Producer(_grains);
        var sent = new List<SendResult>();
        for (var i = 0; i < count; i++)
        {
            sent.Add(await producer.SendAsync(new Message(topic, $"m{i}")));
        }
        return (topic, sent);
    }

    private async Task<PullConsumer> StartAsync(string group, string topic)
    {
        var consumer = new PullConsumer(_grains, Options(group));
        consumer.Subscribe(topic);
        await consumer.StartAsync();
        return consumer;
    }

    /// <summary>Polls until <paramref name="count"/> messages came back (failing after the guard).</summary>
    private static async Task<List<MessageExt>> PollAsync(PullConsumer consumer, int count)
    {
        var messages = new List<MessageExt>();
        var deadline = DateTime.UtcNow + Guard;
        while (messages.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"polled {messages.Count} of {count} messages before giving up");
            messages.AddRange(await consumer.PollAsync(TimeSpan.FromSeconds(1)));
        }
        return messages;
    }

    [Fact]
    public async Task Poll_returns_every_message_sent_in_queue_order()
    {
        var (topic, sent) = await TopicWithMessagesAsync("pull-all", 2, 20);
        await using var consumer = await StartAsync(UniqueName("g"), topic);

        var polled = await PollAsync(consumer, 20);

        Assert.Equal(sent.Select(s => s.MsgId).Order(), polled.Select(m => m.MsgId).Order());
        foreach (var queue in polled.GroupBy(m => m.QueueId))
        {
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), queue.Select(m => m.QueueOffset));
        }
        Assert.Empty(await consumer.PollAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Commit_with_explicit_offsets_commits_exactly_those()
    {
        var (topic, _) = await TopicWithMessagesAsync("pull-commit", 3, 30);
        var group = UniqueName("g");
        await using var consumer = await StartAsync(group, topic);
        await PollAsync(consumer, 30);

        await consumer.CommitAsync(new Dictionary<MessageQueue, long> { [new(topic, 0)] = 3, [new(topic, 2)] = 7 });

        Assert.Equal(3, await _grains.Queue(topic, 0).GetCommittedOffset(group));
        Assert.Equal(7, await _grains.Queue(topic, 2).GetCommittedOffset(group));
        Assert.Equal(3, await _db.ReadConsumerOffsetAsync(group, topic, 0)); // durable when the call returns
        Assert.Equal(7, await _db.ReadConsumerOffsetAsync(group, topic, 2));
        Assert.Equal(0, await _grains.Queue(topic, 1).GetCommittedOffset(group)); // only its start position
    }

    [Fact]
    public async Task A_commit_of_a_negative_offset_is_refused_with_InvalidArgument()
    {
        var (topic, _) = await TopicWithMessagesAsync("pull-neg", 1, 1);
        await using var consumer = await StartAsync(UniqueName("g"), topic);

        var error = await Assert.ThrowsAsync<MQException>(() => consumer.CommitAsync(new Dictionary<MessageQueue, long> { [new(topic, 0)] = -5 }));
        Assert.Equal(MQErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public async Task A_second_consumer_of_the_group_starts_right_after_the_committed_offset()
    {
        var (topic, sent) = await TopicWithMessagesAsync("pull-restart", 1, 10);
        var group = UniqueName("g");
        var first = await StartAsync(group, topic);
        var polled = await PollAsync(first, 10);
        await first.CommitAsync(new Dictionary<MessageQueue, long> { [new(topic, 0)] = 6 }); // processed offsets 0..5 only
        await first.StopAsync();

        await using var second = await StartAsync(group, topic);
        var rest = await PollAsync(second, 4);

        Assert.Equal(10, polled.Count);
        Assert.Equal([6L, 7, 8, 9], rest.Select(m => m.QueueOffset));
        Assert.Equal(sent.Skip(6).Select(s => s.MsgId), rest.Select(m => m.MsgId));
        Assert.Empty(await second.PollAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Commit_without_arguments_commits_the_position_after_everything_polled()
    {
        var (topic, _) = await TopicWithMessagesAsync("pull-commitall", 2, 8);
        var group = UniqueName("g");
        await using var consumer = await StartAsync(group, topic);
        await PollAsync(consumer, 8);

        await consumer.CommitAsync();

        var progress = await _admin.GetGroupProgressAsync(group);
        Assert.Equal(2, progress.Count);
        Assert.All(progress, q => Assert.Equal((4L, 0L), (q.ConsumerOffset, q.Lag)));
    }

    [Fact]
    public async Task Seek_makes_the_next_poll_start_at_the_given_offset_without_committing()
    {
        var (topic, sent) = await TopicWithMessagesAsync("pull-seek", 1, 10);
        var group = UniqueName("g");
        await using var consumer = await StartAsync(group, topic);
        await PollAsync(consumer, 10);
        var queue = new MessageQueue(topic, 0);

        consumer.Seek(queue, 3);
        var again = await PollAsync(consumer, 7);

        Assert.Equal(Enumerable.Range(3, 7).Select(i => (long)i), again.Select(m => m.QueueOffset));
        Assert.Equal(sent.Skip(3).Select(s => s.MsgId), again.Select(m => m.MsgId));
        Assert.Equal(0, await _grains.Queue(topic, 0).GetCommittedOffset(group));
        var notAssigned = Assert.Throws<MQException>(() => consumer.Seek(new MessageQueue(topic, 5), 0));
        Assert.Equal(MQErrorCode.InvalidArgument, notAssigned.Code);
    }

    [Fact]
    public async Task Polling_with_a_zero_timeout_still_returns_the_messages_in_time()
    {
        var (topic, sent) = await TopicWithMessagesAsync("pull-zero", 1, 5);
        await using var consumer = await StartAsync(UniqueName("g"), topic);

        var polled = new List<MessageExt>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (polled.Count < sent.Count && DateTime.UtcNow < deadline)
        {
            polled.AddRange(await consumer.PollAsync(TimeSpan.Zero));
            await Task.Delay(20);
        }

        Assert.Equal(sent.Select(s => s.MsgId), polled.Select(m => m.MsgId));
    }

    [Fact]
    public async Task Poll_before_start_or_after_stop_fails_with_ClientNotStarted()
    {
        var consumer = new PullConsumer(_grains, Options(UniqueName("g")));
        consumer.Subscribe(UniqueName("t"));

        var beforeStart = await Assert.ThrowsAsync<MQException>(() => consumer.PollAsync(TimeSpan.Zero));
        await consumer.StopAsync();
        var afterStop = await Assert.ThrowsAsync<MQException>(() => consumer.PollAsync(TimeSpan.Zero));
        var subscribeAfterStop = Assert.Throws<MQException>(() => consumer.Subscribe(UniqueName("t2")));

        Assert.Equal(MQErrorCode.ClientNotStarted, beforeStart.Code);
        Assert.Equal(MQErrorCode.ClientNotStarted, afterStop.Code);
        Assert.Equal(MQErrorCode.ClientNotStarted, subscribeAfterStop.Code);
    }
}
