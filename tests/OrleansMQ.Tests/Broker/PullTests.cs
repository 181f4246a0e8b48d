using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class PullTests(BrokerClusterFixture fixture)
{
    /// <summary>Only a guard against a hang; never a claim about speed.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task Pull_from_0_returns_the_messages_in_offset_order_with_every_field()
    {
        var topic = await _grains.CreateTopicAsync("pull");
        var queue = _grains.Queue(topic, 0);
        var bornAt = DateTimeOffset.UtcNow.AddSeconds(-5).ToMicroseconds();
        var sent = new[]
        {
            Message("zero", "TagA", ["k1"], new Dictionary<string, string> { ["a"] = "1" }, bornAt),
            Message("one", "TagB", ["k2", "k3"], null, bornAt),
            Message("two", null, [], new Dictionary<string, string> { ["b"] = "2", ["c"] = "3" }, bornAt),
        };
        var stored = await queue.Append(new AppendRequest(sent));

        var result = await queue.Pull(new PullRequest("pull-group", 0));

        Assert.Equal(PullStatus.Found, result.Status);
        Assert.Equal((3L, 0L, 3L), (result.NextBeginOffset, result.MinOffset, result.MaxOffset));
        Assert.Equal(3, result.Messages.Count);
        for (var i = 0; i < sent.Length; i++)
        {
            var m = result.Messages[i];
            Assert.Equal((topic, 0, (long)i), (m.Topic, m.QueueId, m.QueueOffset));
            Assert.Equal(sent[i].MsgId, m.MsgId);
            Assert.Equal(sent[i].Tag, m.Tag);
            Assert.Equal(sent[i].Keys, m.Keys);
            Assert.Equal(sent[i].Body, m.Body);
            Assert.Equal(sent[i].Properties, m.Properties);
            Assert.Equal(bornAt, m.BornAt);
            Assert.Equal(stored.StoredAt.ToMicroseconds(), m.StoredAt.ToMicroseconds());
            Assert.Equal((sent[i].ProducerGroup, sent[i].BornHost), (m.ProducerGroup, m.BornHost));
        }

        var limited = await queue.Pull(new PullRequest("pull-group", 1, MaxMessages: 1));
        Assert.Equal("one", Assert.Single(limited.Messages).BodyAsString());
        Assert.Equal(2, limited.NextBeginOffset);
    }

    [Fact]
    public async Task Tag_filter_returns_only_matching_messages_and_advances_past_the_others()
    {
        var topic = await _grains.CreateTopicAsync("pull-filter", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var tags = new[] { "C", "C", "A", null, "B", "C", "A" };
        await queue.Append(new AppendRequest(tags.Select((t, i) => Message($"m{i}", t)).ToArray()));

        var all = await queue.Pull(new PullRequest("filter-group", 0, TagExpression: "A || B"));
        Assert.Equal(PullStatus.Found, all.Status);
        Assert.Equal([2L, 4L, 6L], all.Messages.Select(m => m.QueueOffset));
        Assert.All(all.Messages, m => Assert.Contains(m.Tag, new[] { "A", "B" }));
        Assert.Equal(7, all.NextBeginOffset);

        var one = await queue.Pull(new PullRequest("filter-group", 0, MaxMessages: 1, TagExpression: "A || B"));
        Assert.Equal(2, Assert.Single(one.Messages).QueueOffset);
        Assert.Equal(3, one.NextBeginOffset);
        var next = await queue.Pull(new PullRequest("filter-group", one.NextBeginOffset, MaxMessages: 1, TagExpression: "A || B"));
        Assert.Equal(4, Assert.Single(next.Messages).QueueOffset);
        Assert.Equal(5, next.NextBeginOffset);

        var none = await queue.Pull(new PullRequest("filter-group", 0, TagExpression: "D || E"));
        Assert.Equal(PullStatus.NoMatchedMessage, none.Status);
        Assert.Empty(none.Messages);
        Assert.Equal(7, none.NextBeginOffset);

        var tail = await queue.Pull(new PullRequest("filter-group", 5, TagExpression: "B"));
        Assert.Equal(PullStatus.NoMatchedMessage, tail.Status);
        Assert.Equal(7, tail.NextBeginOffset);
    }

    [Fact]
    public async Task Pull_at_the_end_without_suspend_returns_NoNewMessage()
    {
        var topic = await _grains.CreateTopicAsync("pull-end", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(2);

        var result = await queue.Pull(new PullRequest("end-group", 2));

        Assert.Equal(PullStatus.NoNewMessage, result.Status);
        Assert.Empty(result.Messages);
        Assert.Equal(2, result.NextBeginOffset);
    }

    [Fact]
    public async Task Parked_long_poll_returns_the_message_another_task_appends_and_does_not_block_the_append()
    {
        var topic = await _grains.CreateTopicAsync("pull-longpoll", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(1, "old");

        var pull = queue.Pull(new PullRequest("longpoll-group", 1, SuspendTimeout: TimeSpan.FromSeconds(10)));
        // Give the pull time to reach the grain and park; nothing can complete it before the append below.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(pull.IsCompleted, "a pull at the end of the queue must wait for new messages");

        var fresh = Message("fresh");
        var append = await queue.Append(Batch(fresh)).WaitAsync(HangGuard);
        var result = await pull.WaitAsync(HangGuard);

        Assert.Equal(1, append.FirstOffset);
        Assert.Equal(PullStatus.Found, result.Status);
        var message = Assert.Single(result.Messages);
        Assert.Equal((fresh.MsgId, 1L), (message.MsgId, message.QueueOffset));
        Assert.Equal(2, result.NextBeginOffset);
    }

    [Fact]
    public async Task Long_poll_with_nothing_new_returns_NoNewMessage_when_its_suspend_time_is_over()
    {
        var topic = await _grains.CreateTopicAsync("pull-timeout", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(1);

        var result = await queue.Pull(new PullRequest("timeout-group", 1, SuspendTimeout: TimeSpan.FromMilliseconds(300))).WaitAsync(HangGuard);

        Assert.Equal(PullStatus.NoNewMessage, result.Status);
        Assert.Equal(1, result.NextBeginOffset);
    }

    [Fact]
    public async Task One_append_wakes_every_parked_long_poll_of_the_queue()
    {
        var topic = await _grains.CreateTopicAsync("pull-many", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var pulls = Enumerable.Range(0, 3)
            .Select(i => queue.Pull(new PullRequest($"many-{i}", 0, SuspendTimeout: TimeSpan.FromSeconds(10))))
            .ToArray();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.DoesNotContain(pulls, p => p.IsCompleted);

        var fresh = Message("for everyone");
        await queue.Append(Batch(fresh)).WaitAsync(HangGuard);
        var results = await Task.WhenAll(pulls).WaitAsync(HangGuard);

        Assert.All(results, r => Assert.Equal(fresh.MsgId, Assert.Single(r.Messages).MsgId));
    }

    [Fact]
    public async Task Answered_long_polls_leave_no_timer_behind()
    {
        // A parked pull's suspend timer must go when the pull is answered. One left to run out its whole
        // suspend time per answered pull adds up to tens of thousands of live timers on a busy silo.
        const int pulls = 1000;
        var topic = await _grains.CreateTopicAsync("pull-timers", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var before = Timer.ActiveCount;
        var parked = Enumerable.Range(0, pulls)
            .Select(i => queue.Pull(new PullRequest($"timers-{i}", 0, SuspendTimeout: TimeSpan.FromSeconds(30))))
            .ToArray();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.DoesNotContain(parked, p => p.IsCompleted);

        await queue.Append(Batch(Message("wake"))).WaitAsync(HangGuard);
        var results = await Task.WhenAll(parked).WaitAsync(HangGuard);

        Assert.All(results, r => Assert.Equal(PullStatus.Found, r.Status));
        // Other tests run beside this one and keep timers of their own, so only a count near the number of pulls fails.
        var left = Timer.ActiveCount - before;
        Assert.True(left < pulls / 4, $"{left} more timers are live after {pulls} answered long polls");
    }

    [Fact]
    public async Task Pull_outside_the_queue_is_OffsetIllegal_with_the_corrected_offset()
    {
        var topic = await _grains.CreateTopicAsync("pull-illegal", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(5);

        var beyond = await queue.Pull(new PullRequest("illegal-group", 100));
        var below = await queue.Pull(new PullRequest("illegal-group", -3));

        Assert.Equal(PullStatus.OffsetIllegal, beyond.Status);
        Assert.Empty(beyond.Messages);
        Assert.Equal((5L, 0L, 5L), (beyond.NextBeginOffset, beyond.MinOffset, beyond.MaxOffset));
        Assert.Equal(PullStatus.OffsetIllegal, below.Status);
        Assert.Equal(0, below.NextBeginOffset);
    }

    [Fact]
    public async Task Messages_older_than_the_tail_cache_are_read_from_Postgres()
    {
        var topic = await _grains.CreateTopicAsync("pull-cold", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var count = TestSiloConfigurator.TailCacheMessages * 2 + 10;
        var sent = new List<MessageData>();
        for (var call = 0; call < count / 10; call++)
        {
            var batch = Enumerable.Range(0, 10).Select(i => Message($"m{call * 10 + i}", i % 2 == 0 ? "even" : "odd", [$"key{call * 10 + i}"])).ToArray();
            await queue.Append(new AppendRequest(batch));
            sent.AddRange(batch);
        }

        var pulled = new List<MessageExt>();
        var offset = 0L;
        while (offset < sent.Count)
        {
            var page = await queue.Pull(new PullRequest("cold-group", offset, MaxMessages: 50));
            Assert.Equal(PullStatus.Found, page.Status);
            pulled.AddRange(page.Messages);
            offset = page.NextBeginOffset;
        }

        Assert.Equal(Enumerable.Range(0, sent.Count).Select(o => (long)o), pulled.Select(m => m.QueueOffset));
        Assert.Equal(sent.Select(m => m.MsgId), pulled.Select(m => m.MsgId));
        Assert.Equal(sent.Select(m => m.BodyText()), pulled.Select(m => m.BodyAsString()));
        Assert.Equal(sent.Select(m => m.Tag), pulled.Select(m => m.Tag));
        Assert.Equal(sent.Select(m => m.Keys[0]), pulled.Select(m => m.Keys[0]));

        var oddFromColdStart = await queue.Pull(new PullRequest("cold-group", 0, MaxMessages: 1000, TagExpression: "odd"));
        Assert.Equal(sent.Where(m => m.Tag == "odd").Select(m => m.MsgId), oddFromColdStart.Messages.Select(m => m.MsgId));
    }

    [Fact]
    public async Task Readers_at_different_positions_of_a_backlog_each_get_every_message_once_in_order()
    {
        // Read-ahead keeps two reader positions per queue; three readers taking small pulls in turn evict each
        // other's windows and must still see exactly the stored sequence.
        var topic = await _grains.CreateTopicAsync("pull-readahead", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var count = TestSiloConfigurator.TailCacheMessages * 4;
        var sent = new List<MessageData>();
        for (var call = 0; call < count / 16; call++)
        {
            var batch = Enumerable.Range(0, 16).Select(i => Message($"r{call * 16 + i}")).ToArray();
            await queue.Append(new AppendRequest(batch));
            sent.AddRange(batch);
        }
        var readers = new[] { (Group: "ra-1", Max: 7), (Group: "ra-2", Max: 5), (Group: "ra-3", Max: 11) };
        var offsets = new long[] { 0, 40, 3 };
        var pulled = readers.Select(_ => new List<MessageExt>()).ToArray();

        while (offsets.Any(o => o < count))
        {
            for (var r = 0; r < readers.Length; r++)
            {
                if (offsets[r] >= count) continue;
                var page = await queue.Pull(new PullRequest(readers[r].Group, offsets[r], MaxMessages: readers[r].Max));
                Assert.Equal(PullStatus.Found, page.Status);
                Assert.InRange(page.Messages.Count, 1, readers[r].Max);
                pulled[r].AddRange(page.Messages);
                offsets[r] = page.NextBeginOffset;
            }
        }

        Assert.Equal(sent.Select(m => m.MsgId), pulled[0].Select(m => m.MsgId));
        Assert.Equal(sent.Skip(40).Select(m => m.MsgId), pulled[1].Select(m => m.MsgId));
        Assert.Equal(sent.Skip(3).Select(m => m.MsgId), pulled[2].Select(m => m.MsgId));
        Assert.Equal(Enumerable.Range(0, count).Select(o => (long)o), pulled[0].Select(m => m.QueueOffset));
    }

    [Fact]
    public async Task A_message_reads_back_the_same_from_the_tail_cache_and_from_Postgres()
    {
        var topic = await _grains.CreateTopicAsync("pull-same", queues: 1);
        var queue = _grains.Queue(topic, 0);
        // Born at a time with sub-microsecond ticks, as DateTimeOffset.UtcNow usually is.
        var original = Message("first", "T", ["k"], new Dictionary<string, string> { ["p"] = "v" }, DateTimeOffset.UtcNow.ToMicroseconds().AddTicks(7));
        var appended = await queue.Append(Batch(original));
        var hot = Assert.Single((await queue.Pull(new PullRequest("same-group", 0, MaxMessages: 1))).Messages);

        for (var i = 0; i < TestSiloConfigurator.TailCacheMessages; i += 16)
        {
            await queue.Append(new AppendRequest(Enumerable.Range(0, 16).Select(j => Message($"push-out-{i + j}")).ToArray()));
        }
        var cold = Assert.Single((await queue.Pull(new PullRequest("same-group", 0, MaxMessages: 1))).Messages);

        Assert.Equal((hot.MsgId, hot.Tag, hot.Keys.Single(), hot.BodyAsString()), (cold.MsgId, cold.Tag, cold.Keys.Single(), cold.BodyAsString()));
        Assert.Equal(hot.Properties, cold.Properties);
        Assert.Equal(appended.StoredAt, hot.StoredAt);
        Assert.True(hot.BornAt == cold.BornAt, $"born time read from the tail cache ({hot.BornAt:O}) differs from the one read from Postgres ({cold.BornAt:O})");
        Assert.True(hot.StoredAt == cold.StoredAt, $"store time read from the tail cache ({hot.StoredAt:O}) differs from the one read from Postgres ({cold.StoredAt:O}); AppendResult said {appended.StoredAt:O}");
    }
}
