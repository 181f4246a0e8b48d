using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Retry;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Topics;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Client;

/// <summary>
/// The push consumer against the shared test cluster: every message sent is received, instances of a group
/// divide the queues, a rebalance loses nothing, and the committed offset never passes an unconsumed message.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class PushConsumerTests(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;
    private readonly AdminClient _admin = new(fixture.Client);

    /// <summary>Short intervals, so joins, leaves and commits are seen within a second or two.</summary>
    internal static PushConsumerOptions Options(string group, string? clientId = null, ConsumeFromWhere from = ConsumeFromWhere.FirstOffset) => new()
    {
        ConsumerGroup = group,
        ClientId = clientId ?? ConsumerOptions.NewClientId(),
        ConsumeFromWhere = from,
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        RebalanceInterval = TimeSpan.FromSeconds(2),
        PullSuspendTimeout = TimeSpan.FromSeconds(2),
        PersistConsumerOffsetInterval = TimeSpan.FromMilliseconds(500),
    };

    /// <summary>What one or more consumers received, in arrival order.</summary>
    private sealed class Received
    {
        private readonly ConcurrentQueue<(string ClientId, MessageExt Message)> _all = new();

        public Func<IReadOnlyList<MessageExt>, ConsumeConcurrentlyContext, CancellationToken, Task<ConsumeResult>> ListenerFor(string clientId) =>
            (messages, _, _) =>
            {
                foreach (var message in messages) _all.Enqueue((clientId, message));
                return Task.FromResult(ConsumeResult.Success);
            };

        public IReadOnlyList<(string ClientId, MessageExt Message)> All => [.. _all];

        public int Count => _all.Count;

        public HashSet<string> MsgIds => [.. _all.Select(r => r.Message.MsgId)];
    }

    private async Task<string> CreateTopicAsync(string prefix, int queues)
    {
        var topic = UniqueName(prefix);
        await _admin.CreateTopicAsync(topic, queues);
        return topic;
    }

    private async Task<List<SendResult>> SendAsync(string topic, int count, Func<int, string?>? tag = null)
    {
        await using var producer = new Producer(_grains);
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => producer.SendAsync(new Message(topic, $"m{i}") { Tag = tag?.Invoke(i) })));
        return [.. results];
    }

    private PushConsumer StartConsumer(PushConsumerOptions options, string topic, Received received, string expression = "*")
    {
        var consumer = new PushConsumer(_grains, options);
        consumer.Subscribe(topic, expression);
        consumer.RegisterMessageListener(received.ListenerFor(options.ClientId));
        return consumer;
    }

    private static Task WaitForAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.PollAsync(() => Task.FromResult(condition()), done => done, timeout ?? Guard, what);

    /// <summary>The consumer's queues of the subscribed topic (not of its group's retry topic, which it subscribes to by itself).</summary>
    private static int[] Ids(PushConsumer consumer) => [.. consumer.Assignment.Where(q => !RetryRules.IsRetryTopic(q.Topic)).Select(q => q.QueueId)];

    [Fact]
    public async Task A_push_consumer_receives_every_message_sent_exactly_once()
    {
        var topic = await CreateTopicAsync("pc-all", 4);
        var sent = await SendAsync(topic, 100);
        var received = new Received();
        await using var consumer = StartConsumer(Options(UniqueName("g")), topic, received);

        await consumer.StartAsync();
        await WaitForAsync(() => received.Count >= sent.Count, "all 100 messages");

        Assert.Equal([0, 1, 2, 3], Ids(consumer));
        Assert.Equal(sent.Select(s => s.MsgId).Order(), received.All.Select(r => r.Message.MsgId).Order());
        Assert.All(received.All, r => Assert.Equal(0, r.Message.ReconsumeTimes));
    }

    [Fact]
    public async Task A_subscription_replaced_after_start_applies_to_the_pull_the_broker_was_holding()
    {
        var topic = await CreateTopicAsync("pc-resub", 1);
        var received = new Received();
        await using var consumer = StartConsumer(Options(UniqueName("g")), topic, received, "A");
        await consumer.StartAsync();
        await WaitForAsync(() => Ids(consumer).Length == 1, "the queue assigned");
        await Task.Delay(500); // its pull (filter "A") is now held at the end of the queue

        consumer.Subscribe(topic, "B");
        await using var producer = new Producer(_grains);
        var a = await producer.SendAsync(new Message(topic, "a") { Tag = "A" });
        var b = await producer.SendAsync(new Message(topic, "b") { Tag = "B" });

        await WaitForAsync(() => received.MsgIds.Contains(b.MsgId), "the B message");
        Assert.DoesNotContain(a.MsgId, received.MsgIds);
        Assert.Equal(["B"], received.All.Select(r => r.Message.Tag));
    }

    [Fact]
    public async Task A_consumer_of_a_topic_that_does_not_exist_yet_gets_its_queues_soon_after_it_is_created()
    {
        var topic = UniqueName("pc-later");
        var received = new Received();
        var options = Options(UniqueName("g"));
        options.RebalanceInterval = TimeSpan.FromMinutes(2); // longer than the guard: only the missing-topic recheck can help
        await using var consumer = StartConsumer(options, topic, received);
        await consumer.StartAsync();
        await Task.Delay(500);

        await _admin.CreateTopicAsync(topic, 2);
        var sent = await SendAsync(topic, 4);

        await WaitForAsync(() => received.Count >= sent.Count, "the messages of the topic created after the start");
        Assert.Equal(sent.Select(s => s.MsgId).Order(), received.All.Select(r => r.Message.MsgId).Order());
    }

    [Fact]
    public async Task A_consumer_whose_group_grain_does_not_answer_retries_after_a_delay_not_in_a_loop()
    {
        var topic = await CreateTopicAsync("pc-outage", 1);
        var recorder = new QueueCallRecorder(_grains);
        await using var consumer = new PushConsumer(recorder, Options(UniqueName("g"))); // heartbeat 1 s, rebalance 2 s
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((_, _, _) => Task.FromResult(ConsumeResult.Success));
        await consumer.StartAsync();

        recorder.FailGroupCalls = true;
        var before = recorder.GroupCalls;
        await Task.Delay(TimeSpan.FromSeconds(5)); // at least two rebalances fall due, and fail, meanwhile
        var during = recorder.GroupCalls - before;
        recorder.FailGroupCalls = false;

        // One try every 2 s (RetryDelay) is 2 or 3 calls; a due rebalance retried at once made thousands.
        Assert.InRange(during, 1, 10);
        await WaitForAsync(() => Ids(consumer).Length == 1, "the consumer to keep its queue once the group answers again");
    }

    [Fact]
    public async Task Queues_added_to_a_topic_reach_a_running_producer_and_consumer()
    {
        var topic = await CreateTopicAsync("pc-grow", 2);
        var received = new Received();
        await using var consumer = StartConsumer(Options(UniqueName("g")), topic, received);
        await consumer.StartAsync();
        await WaitForAsync(() => Ids(consumer).SequenceEqual([0, 1]), "the two queues assigned");
        await using var producer = new Producer(_grains, new ProducerOptions { RouteRefreshInterval = TimeSpan.FromMilliseconds(300) });
        var sent = new List<SendResult> { await producer.SendAsync(new Message(topic, "before")) };

        await _admin.UpdateTopicAsync(topic, new TopicUpdate(Queues: 4));

        await WaitForAsync(() => Ids(consumer).SequenceEqual([0, 1, 2, 3]), "the new queues assigned at the next rebalance");
        await Eventually.PollAsync(async () =>
        {
            sent.Add(await producer.SendAsync(new Message(topic, $"after {sent.Count}")));
            return sent[^1].Queue.QueueId;
        }, queueId => queueId >= 2, Guard, "a send to a new queue after the producer's route refresh");
        await WaitForAsync(() => received.Count >= sent.Count, $"all {sent.Count} messages");
        Assert.Equal(sent.Select(s => s.MsgId).Order(), received.All.Select(r => r.Message.MsgId).Order());
    }

    [Fact]
    public async Task A_tag_expression_A_or_B_delivers_only_messages_tagged_A_or_B()
    {
        var topic = await CreateTopicAsync("pc-tags", 2);
        var tags = new[] { "A", "B", "C" };
        var sent = await SendAsync(topic, 30, i => tags[i % 3]);
        var group = UniqueName("g");
        var received = new Received();
        await using var consumer = StartConsumer(Options(group), topic, received, "A || B");

        await consumer.StartAsync();
        await WaitForAsync(() => received.Count >= 20, "the 20 messages tagged A or B");
        // Filtered-out messages still move the offset: once the group has no lag, nothing else can arrive.
        await Eventually.PollAsync(() => _admin.GetGroupProgressAsync(group), p => p.Count(q => q.Topic == topic) == 2 && p.All(q => q.Lag == 0), Guard, "the group to have no lag");

        var expected = sent.Where((_, i) => tags[i % 3] != "C").Select(s => s.MsgId).Order();
        Assert.Equal(expected, received.All.Select(r => r.Message.MsgId).Order());
        Assert.All(received.All, r => Assert.Contains(r.Message.Tag, new[] { "A", "B" }));
    }

    [Fact]
    public async Task Two_instances_of_one_group_split_the_queues_evenly_and_together_receive_every_message_once()
    {
        var topic = await CreateTopicAsync("pc-split", 8);
        var group = UniqueName("g");
        var received = new Received();
        await using var first = StartConsumer(Options(group, $"a-{Guid.NewGuid():N}"), topic, received);
        await using var second = StartConsumer(Options(group, $"b-{Guid.NewGuid():N}"), topic, received);

        await first.StartAsync();
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], Ids(first));
        await second.StartAsync();
        await WaitForAsync(() => Ids(first).SequenceEqual([0, 1, 2, 3]) && Ids(second).SequenceEqual([4, 5, 6, 7]), "the first instance to give up queues 4-7");
        var sent = await SendAsync(topic, 400);
        await WaitForAsync(() => received.Count >= sent.Count, "all 400 messages");

        Assert.Equal(sent.Select(s => s.MsgId).Order(), received.All.Select(r => r.Message.MsgId).Order());
        Assert.All(received.All, r => Assert.Equal(r.ClientId == first.ClientId, r.Message.QueueId < 4));
        Assert.Equal([0, 1, 2, 3], Ids(first)); // no rebalance happened meanwhile
        Assert.Equal([4, 5, 6, 7], Ids(second));
    }

    [Fact]
    public async Task When_an_instance_joins_and_another_stops_the_queues_are_redivided_and_no_message_is_lost()
    {
        var topic = await CreateTopicAsync("pc-rebalance", 6);
        var group = UniqueName("g");
        var received = new Received();
        var a = StartConsumer(Options(group, $"a-{Guid.NewGuid():N}"), topic, received);
        await using var b = StartConsumer(Options(group, $"b-{Guid.NewGuid():N}"), topic, received);
        await using var c = StartConsumer(Options(group, $"c-{Guid.NewGuid():N}"), topic, received);
        var sent = new ConcurrentQueue<string>();
        using var stopSending = new CancellationTokenSource();
        Task? sending = null;
        try
        {
            await a.StartAsync();
            await b.StartAsync();
            await WaitForAsync(() => Ids(a).SequenceEqual([0, 1, 2]) && Ids(b).SequenceEqual([3, 4, 5]), "two instances to split the queues");
            sending = Task.Run(async () =>
            {
                await using var producer = new Producer(_grains);
                for (var round = 0; !stopSending.IsCancellationRequested; round++)
                {
                    var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => producer.SendAsync(new Message(topic, $"r{round}-{i}"))));
                    foreach (var result in results) sent.Enqueue(result.MsgId);
                    await Task.Delay(20);
                }
            });
            await WaitForAsync(() => sent.Count >= 100, "some messages before the join");

            await c.StartAsync();
            await WaitForAsync(() => Ids(a).SequenceEqual([0, 1]) && Ids(b).SequenceEqual([2, 3]) && Ids(c).SequenceEqual([4, 5]), "three instances to split the queues");
            var beforeStop = sent.Count;
            await WaitForAsync(() => sent.Count >= beforeStop + 100, "more messages after the join");

            await a.StopAsync();
            var instances = await _admin.GetGroupInstancesAsync(group);
            Assert.DoesNotContain(a.ClientId, instances.Select(i => i.ClientId)); // a graceful stop leaves the group at once
            await WaitForAsync(() => Ids(b).SequenceEqual([0, 1, 2]) && Ids(c).SequenceEqual([3, 4, 5]), "the two remaining instances to split the queues");
            var afterStop = sent.Count;
            await WaitForAsync(() => sent.Count >= afterStop + 100, "more messages after the stop");
        }
        finally
        {
            await stopSending.CancelAsync();
            if (sending is not null) await sending;
            await a.DisposeAsync();
        }

        var all = sent.ToHashSet();
        await WaitForAsync(() => all.IsSubsetOf(received.MsgIds), $"all {all.Count} messages to be received");
        var duplicates = received.All.GroupBy(r => r.Message.MsgId).Where(g => g.Count() > 1).ToList();
        output.WriteLine($"{all.Count} messages sent, {received.Count} deliveries, {duplicates.Count} messages delivered more than once " +
                         $"(queues: {string.Join(",", duplicates.Select(d => d.First().Message.QueueId).Distinct().Order())})");
        Assert.Equal(all.Count, received.MsgIds.Count);
        Assert.All(duplicates, d => Assert.True(d.Select(r => r.ClientId).Distinct().Count() > 1,
            $"message {d.Key} was delivered {d.Count()} times to the same instance: not a handover duplicate"));
    }

    [Fact]
    public async Task Reconsume_later_sends_the_message_back_and_the_queue_moves_on_without_it()
    {
        var topic = await CreateTopicAsync("pc-reconsume", 1);
        var sent = await SendAsync(topic, 5);
        var group = UniqueName("g");
        var queue = _grains.Queue(topic, 0);
        var attempts = new ConcurrentDictionary<string, int>();
        var deliveries = new ConcurrentQueue<MessageExt>();
        var failing = sent.Single(s => s.QueueOffset == 2).MsgId;
        var succeeded = 0;
        await using var consumer = new PushConsumer(_grains, Options(group));
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            var message = Assert.Single(messages);
            deliveries.Enqueue(message);
            var attempt = attempts.AddOrUpdate(message.MsgId, 1, (_, n) => n + 1);
            if (message.MsgId == failing)
            {
                if (attempt == 1) return Task.FromResult(ConsumeResult.ReconsumeLater);
                if (attempt == 2) throw new InvalidOperationException("a listener that throws counts as ReconsumeLater");
                Volatile.Write(ref succeeded, 1);
            }
            return Task.FromResult(ConsumeResult.Success);
        });
        await consumer.StartAsync();

        // The failed message went back to the broker: the queue's offset passes it long before its retry succeeds.
        await Eventually.PollAsync(() => queue.GetCommittedOffset(group), o => o == 5, Guard, "the offset to pass the failed message");
        await WaitForAsync(() => Volatile.Read(ref succeeded) == 1, "the failed message to succeed at its third attempt (from the retry topic)");
        var redelivered = deliveries.Where(m => m.MsgId == failing).ToList();
        Assert.Equal([0, 1, 2], redelivered.Select(m => m.ReconsumeTimes));
        Assert.All(redelivered, m => Assert.Equal(topic, m.Topic)); // the handler sees the original topic, not %RETRY%
        Assert.All(attempts.Where(a => a.Key != failing), a => Assert.Equal(1, a.Value));
    }

    [Fact]
    public async Task A_new_group_starts_at_the_first_or_the_last_offset_as_configured()
    {
        var topic = await CreateTopicAsync("pc-where", 2);
        var old = await SendAsync(topic, 10);
        var firstGroup = UniqueName("g-first");
        var lastGroup = UniqueName("g-last");
        var fromFirst = new Received();
        var fromLast = new Received();
        await using var first = StartConsumer(Options(firstGroup, from: ConsumeFromWhere.FirstOffset), topic, fromFirst);
        await using var last = StartConsumer(Options(lastGroup, from: ConsumeFromWhere.LastOffset), topic, fromLast);

        await first.StartAsync();
        await last.StartAsync();
        var ends = await Task.WhenAll(Enumerable.Range(0, 2).Select(q => _grains.Queue(topic, q).GetStatus()));
        var starts = await Task.WhenAll(Enumerable.Range(0, 2).Select(q =>
            Eventually.PollAsync(() => _grains.Queue(topic, q).GetCommittedOffset(lastGroup), o => o >= 0, Guard, $"the last-offset group to start on queue {q}")));
        Assert.Equal(ends.Select(s => s.MaxOffset), starts);
        var fresh = await SendAsync(topic, 6);
        await WaitForAsync(() => fromFirst.Count >= 16 && fromLast.Count >= 6, "both groups to receive what they should");

        Assert.Equal(old.Concat(fresh).Select(s => s.MsgId).Order(), fromFirst.All.Select(r => r.Message.MsgId).Order());
        Assert.Equal(fresh.Select(s => s.MsgId).Order(), fromLast.All.Select(r => r.Message.MsgId).Order());
    }

    [Fact]
    public async Task Stopping_commits_every_queue_durably_so_the_group_has_no_lag()
    {
        var topic = await CreateTopicAsync("pc-stop", 4);
        var sent = await SendAsync(topic, 40);
        var group = UniqueName("g");
        var received = new Received();
        var options = Options(group);
        options.PersistConsumerOffsetInterval = TimeSpan.FromMinutes(1); // only pulls and the stop commit
        var consumer = StartConsumer(options, topic, received);

        await consumer.StartAsync();
        await WaitForAsync(() => received.Count >= sent.Count, "all 40 messages");
        await consumer.StopAsync();

        var progress = (await _admin.GetGroupProgressAsync(group)).Where(q => q.Topic == topic).ToList();
        Assert.Equal(4, progress.Count);
        Assert.All(progress, q => Assert.Equal(0, q.Lag));
        Assert.Equal(40, progress.Sum(q => q.ConsumerOffset));
        foreach (var q in progress)
        {
            Assert.Equal(q.BrokerOffset, await _db.ReadConsumerOffsetAsync(group, topic, q.QueueId)); // persisted, not only in memory
        }
        Assert.Empty(await _admin.GetGroupInstancesAsync(group));
    }

    [Theory]
    [InlineData("a b", MQErrorCode.InvalidGroupName)]
    [InlineData("", MQErrorCode.InvalidGroupName)]
    [InlineData("g/1", MQErrorCode.InvalidGroupName)]
    [InlineData("DEFAULT_CONSUMER", MQErrorCode.ReservedName)]
    [InlineData("%RETRY%g", MQErrorCode.ReservedName)]
    public void A_consumer_with_an_invalid_group_name_is_refused_at_construction(string group, MQErrorCode expected)
    {
        var push = Assert.Throws<MQException>(() => new PushConsumer(_grains, Options(group)));
        var pull = Assert.Throws<MQException>(() => new PullConsumer(_grains, new PullConsumerOptions { ConsumerGroup = group }));

        Assert.Equal(expected, push.Code);
        Assert.Equal(expected, pull.Code);
    }

    [Fact]
    public async Task Starting_without_a_subscription_or_listener_is_refused_with_InvalidArgument()
    {
        await using var noSubscription = new PushConsumer(_grains, Options(UniqueName("g")));
        noSubscription.RegisterMessageListener((_, _, _) => Task.FromResult(ConsumeResult.Success));
        await using var noListener = new PushConsumer(_grains, Options(UniqueName("g")));
        noListener.Subscribe(UniqueName("t"));

        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => noSubscription.StartAsync())).Code);
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => noListener.StartAsync())).Code);
    }

    [Fact]
    public async Task Flow_control_keeps_the_cached_unconsumed_messages_of_a_queue_bounded()
    {
        const int threshold = 10;
        const int batch = 4;
        var topic = await CreateTopicAsync("pc-flow", 1);
        var sent = await SendAsync(topic, 120);
        var recorder = new QueueCallRecorder(_grains);
        var pulled = 0;
        var consumed = 0;
        var maxCached = 0;
        recorder.OnPulled = (request, result) =>
        {
            if (result.Status != PullStatus.Found) return;
            var cached = Interlocked.Add(ref pulled, result.Messages.Count) - Volatile.Read(ref consumed);
            InterlockedMax(ref maxCached, cached);
        };
        var options = Options(UniqueName("g"));
        options.PullThresholdForQueue = threshold;
        options.PullBatchSize = batch;
        options.ConsumeThreadCount = 1;
        await using var consumer = new PushConsumer(recorder, options);
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener(async (messages, _, ct) =>
        {
            await Task.Delay(5, ct); // a slow listener: pulling outruns it
            Interlocked.Add(ref consumed, messages.Count);
            return ConsumeResult.Success;
        });

        await consumer.StartAsync();
        await WaitForAsync(() => Volatile.Read(ref consumed) >= sent.Count, "all 120 messages to be consumed", TimeSpan.FromSeconds(60));

        output.WriteLine($"most messages cached and not yet consumed: {maxCached}");
        // A pull starts only below the threshold and brings at most one batch.
        Assert.InRange(maxCached, batch, threshold - 1 + batch);
        Assert.Equal(sent.Count, Volatile.Read(ref pulled));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }
}
