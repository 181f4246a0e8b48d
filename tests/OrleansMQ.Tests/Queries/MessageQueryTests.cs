using OrleansMQ.Admin;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Queries;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Queries;

/// <summary>Queries by message id, key and queue offset, offset search by store time, and backtracking, on the shared cluster.</summary>
[Collection(BrokerCollection.Name)]
public sealed class MessageQueryTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    private IMessageQueryGrain Query => _grains.GetGrain<IMessageQueryGrain>(0);

    [Fact]
    public async Task A_sent_message_is_found_by_its_id_as_soon_as_the_send_returns()
    {
        var topic = await _grains.CreateTopicAsync("query-id", queues: 2);
        await using var producer = new Producer(_grains);
        var sent = await producer.SendAsync(new Message(topic, "find me") { Tag = "t", Keys = ["k-1"] });

        var found = Assert.Single(await _admin.QueryMessageByIdAsync(sent.MsgId));

        Assert.Equal((topic, sent.Queue.QueueId, sent.QueueOffset, "find me", "t"), (found.Topic, found.QueueId, found.QueueOffset, found.BodyAsString(), found.Tag));
        Assert.Equal(["k-1"], found.Keys);
        Assert.Empty(await _admin.QueryMessageByIdAsync(MessageIds.NewId()));
    }

    [Fact]
    public async Task By_key_returns_the_topics_messages_with_that_key_in_the_time_range_oldest_first()
    {
        var topic = await _grains.CreateTopicAsync("query-key", queues: 4);
        var other = await _grains.CreateTopicAsync("query-key-other", queues: 1);
        var key = UniqueName("order");
        await using var producer = new Producer(_grains);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var first = await producer.SendAsync(new Message(topic, "created") { Keys = [key] });
        await producer.SendAsync(new Message(topic, "unrelated") { Keys = ["someone-else"] });
        var second = await producer.SendAsync(new Message(topic, "paid") { Keys = ["x", key] });
        await producer.SendAsync(new Message(other, "same key, other topic") { Keys = [key] });

        var found = await _admin.QueryMessageByKeyAsync(topic, key, before, DateTimeOffset.UtcNow.AddSeconds(1));

        Assert.Equal([first.MsgId, second.MsgId], found.Select(m => m.MsgId));
        Assert.Empty(await _admin.QueryMessageByKeyAsync(topic, key, before.AddHours(-2), before));
        Assert.Single(await _admin.QueryMessageByKeyAsync(topic, key, before, DateTimeOffset.UtcNow.AddSeconds(1), maxResults: 1));
    }

    [Fact]
    public async Task By_offset_returns_that_message_and_MessageNotFound_past_the_end()
    {
        var topic = await _grains.CreateTopicAsync("query-offset", queues: 2);
        var sent = await _grains.Queue(topic, 1).AppendAsync(3);

        var found = await _admin.QueryMessageByOffsetAsync(topic, 1, 2);

        Assert.Equal(sent[2].MsgId, found.MsgId);
        var missing = await Assert.ThrowsAsync<MQException>(() => _admin.QueryMessageByOffsetAsync(topic, 1, 3));
        Assert.Equal(MQErrorCode.MessageNotFound, missing.Code);
        var noQueue = await Assert.ThrowsAsync<MQException>(() => _admin.QueryMessageByOffsetAsync(topic, 2, 0));
        Assert.Equal(MQErrorCode.QueueNotFound, noQueue.Code);
    }

    [Fact]
    public async Task Bad_query_arguments_get_typed_errors_from_the_client_and_from_the_broker()
    {
        var topic = await _grains.CreateTopicAsync("query-bad", queues: 1);
        var now = DateTimeOffset.UtcNow;

        Assert.Equal(MQErrorCode.InvalidKeys, (await Assert.ThrowsAsync<MQException>(() => _admin.QueryMessageByKeyAsync(topic, "a b", now.AddHours(-1), now))).Code);
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => _admin.QueryMessageByKeyAsync(topic, "k", now, now))).Code);
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => _admin.QueryMessageByIdAsync(" "))).Code);
        Assert.Equal(MQErrorCode.TopicNotFound, (await Assert.ThrowsAsync<MQException>(() => _admin.QueryMessageByKeyAsync(UniqueName("nope"), "k", now.AddHours(-1), now))).Code);
        // The broker checks again for callers that skip the client library.
        Assert.Equal(MQErrorCode.InvalidKeys, (await Assert.ThrowsAsync<MQException>(() => Query.QueryByKey(topic, "a b", now.AddHours(-1), now, 10))).Code);
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => Query.QueryById("x", 0))).Code);
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => Query.QueryByOffset(topic, 0, -1))).Code);
    }

    [Fact]
    public async Task SearchOffset_finds_the_first_message_stored_at_or_after_a_time()
    {
        var topic = await _grains.CreateTopicAsync("query-search", queues: 2);
        var queue = _grains.Queue(topic, 0);
        var stamps = new List<DateTimeOffset>();
        for (var i = 0; i < 9; i++)
        {
            var appended = await queue.Append(Batch(Message($"m{i}")));
            stamps.Add(appended.StoredAt);
            await Task.Delay(3);
        }

        for (var i = 0; i < 9; i++)
        {
            // Several messages may share a store time: the first of them is where that moment starts.
            Assert.Equal(stamps.IndexOf(stamps[i]), await Query.SearchOffset(topic, 0, stamps[i]));
        }
        Assert.Equal(0, await Query.SearchOffset(topic, 0, stamps[0].AddHours(-1)));
        Assert.Equal(9, await Query.SearchOffset(topic, 0, stamps[^1].AddTicks(10)));
        Assert.Equal(0, await Query.SearchOffset(topic, 1, stamps[0]));
    }

    [Fact]
    public async Task ResetOffsetsByTime_rewinds_a_stopped_group_and_its_consumer_reads_from_there_again()
    {
        var topic = await _grains.CreateTopicAsync("query-reset", queues: 2);
        var group = UniqueName("rewind");
        await _grains.Queue(topic, 0).AppendAsync(3, "old");
        await _grains.Queue(topic, 1).AppendAsync(2, "old");
        await Task.Delay(20);
        var middle = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await _grains.Queue(topic, 0).AppendAsync(2, "new");
        await _grains.Queue(topic, 0).CommitOffset(group, 5, flush: true);
        await _grains.Queue(topic, 1).CommitOffset(group, 2, flush: true);

        var resets = await _admin.ResetOffsetsByTimeAsync(group, topic, middle);

        Assert.Equal([(0, 5L, 3L), (1, 2L, 2L)], resets.Select(r => (r.Queue.QueueId, r.Before, r.After)));
        await using var consumer = new PullConsumer(_grains, new PullConsumerOptions { ConsumerGroup = group, RebalanceInterval = TimeSpan.FromSeconds(1) });
        consumer.Subscribe(topic);
        await consumer.StartAsync();
        var again = await PollAtLeastAsync(consumer, 2);
        Assert.Equal(["new-0", "new-1"], again.Select(m => m.BodyAsString()));

        // A live instance would overwrite the reset with its own position: refused while it runs, nothing moved
        // (the consumer has not committed what it polled, so the offset is still the reset one).
        var refused = await Assert.ThrowsAsync<MQException>(() => _admin.ResetOffsetsByTimeAsync(group, topic, middle.AddHours(-1)));
        Assert.Equal(MQErrorCode.ConsumerGroupActive, refused.Code);
        Assert.Equal(3, await _grains.Queue(topic, 0).GetCommittedOffset(group));
    }

    [Fact]
    public async Task A_new_group_consuming_from_a_timestamp_starts_at_the_first_message_stored_from_then()
    {
        var topic = await _grains.CreateTopicAsync("query-from-time", queues: 1);
        await _grains.Queue(topic, 0).AppendAsync(4, "before");
        await Task.Delay(20);
        var from = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await _grains.Queue(topic, 0).AppendAsync(2, "after");

        await using var consumer = new PullConsumer(_grains, new PullConsumerOptions
        {
            ConsumerGroup = UniqueName("from-time"),
            ConsumeFromWhere = ConsumeFromWhere.Timestamp,
            ConsumeTimestamp = from,
        });
        consumer.Subscribe(topic);
        await consumer.StartAsync();
        var got = await PollAtLeastAsync(consumer, 2);

        Assert.Equal(["after-0", "after-1"], got.Select(m => m.BodyAsString()));
    }

    private static async Task<List<MessageExt>> PollAtLeastAsync(PullConsumer consumer, int count)
    {
        var got = new List<MessageExt>();
        await Eventually.PollAsync(async () =>
        {
            got.AddRange(await consumer.PollAsync(TimeSpan.FromMilliseconds(500)));
            return got.Count;
        }, n => n >= count, TimeSpan.FromSeconds(20), $"{count} messages");
        return got;
    }

    [Fact]
    public async Task The_message_track_tells_each_group_with_offsets_whether_it_consumed_filtered_or_has_yet_to_consume_the_message()
    {
        var topic = await _grains.CreateTopicAsync("query-track", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(2, tag: "created");
        var message = Assert.Single((await queue.Pull(new Queues.PullRequest("query-track-reader", 1))).Messages);
        var (done, filtered, behind, offline) = (UniqueName("t-done"), UniqueName("t-filtered"), UniqueName("t-behind"), UniqueName("t-offline"));
        await queue.CommitOffset(done, 2, flush: true);
        await queue.CommitOffset(filtered, 2, flush: true);
        await queue.CommitOffset(behind, 1, flush: true);
        await queue.CommitOffset(offline, 0, flush: true);
        await _grains.GetGrain<IConsumerGroupGrain>(filtered).Heartbeat(
            new ConsumerHeartbeat("f1", [new Subscription(topic, "paid")], MessageModel.Clustering, ConsumeFromWhere.LastOffset));
        await _grains.GetGrain<IConsumerGroupGrain>(behind).Heartbeat(
            new ConsumerHeartbeat("b1", [new Subscription(topic, "*")], MessageModel.Clustering, ConsumeFromWhere.LastOffset));

        var tracks = (await _admin.TrackMessageAsync(topic, 0, message.QueueOffset)).ToDictionary(t => t.Group);

        Assert.Equal(MessageTrackType.Consumed, tracks[done].Type);
        Assert.Equal(MessageTrackType.ConsumedButFiltered, tracks[filtered].Type);
        Assert.Contains("'paid'", tracks[filtered].Detail);
        Assert.Equal((MessageTrackType.NotConsumedYet, 1L), (tracks[behind].Type, tracks[behind].CommittedOffset));
        Assert.Equal(MessageTrackType.NotOnline, tracks[offline].Type);
        Assert.DoesNotContain("query-track-reader", tracks.Keys);
        var missing = await Assert.ThrowsAsync<MQException>(() => _admin.TrackMessageAsync(topic, 0, 99));
        Assert.Equal(MQErrorCode.MessageNotFound, missing.Code);
    }

    [Fact]
    public async Task The_schedule_copy_of_a_timer_message_can_be_read_and_tracked_but_its_topic_not_deleted()
    {
        var topic = await _grains.CreateTopicAsync("query-scheduled", queues: 1);
        await using var producer = new Producer(_grains);
        var due = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeMilliseconds()); // whole milliseconds, as stored
        var sent = await producer.SendAsync(new Message(topic, "later") { DeliverAt = due });
        var schedule = sent.ScheduleQueue!;

        var copy = Assert.Single(await _admin.QueryMessageByIdAsync(sent.MsgId));
        var atOffset = await _admin.QueryMessageByOffsetAsync(schedule.Topic, schedule.QueueId, sent.QueueOffset);
        var status = await _admin.GetTopicStatusAsync(schedule.Topic);
        var track = Assert.Single(await _admin.TrackMessageAsync(copy.Topic, copy.QueueId, copy.QueueOffset));
        var delete = await Assert.ThrowsAsync<MQException>(() => _admin.DeleteTopicAsync(schedule.Topic));

        Assert.Equal((schedule.Topic, sent.QueueOffset), (copy.Topic, copy.QueueOffset));
        Assert.Equal(sent.MsgId, atOffset.MsgId);
        Assert.Contains(status, q => q.QueueId == schedule.QueueId && q.MaxOffset > sent.QueueOffset);
        Assert.Equal(MessageTrackType.Scheduled, track.Type);
        var expected = $"schedule copy for {topic}, due at {due.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z";
        Assert.True(track.Detail.Contains(expected, StringComparison.Ordinal), $"'{track.Detail}' does not say '{expected}'");
        Assert.Equal(MQErrorCode.ReservedName, delete.Code);
    }
}
