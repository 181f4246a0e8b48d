using System.Collections.Concurrent;
using System.Text;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Validation;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Client;

/// <summary>The producer against the shared test cluster: what a send returns is what Postgres holds.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ProducerTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;
    private readonly AdminClient _admin = new(fixture.Client);

    private async Task<string> CreateTopicAsync(string prefix, int queues)
    {
        var topic = UniqueName(prefix);
        await _admin.CreateTopicAsync(topic, queues);
        return topic;
    }

    [Fact]
    public async Task Send_returns_msgId_queue_and_offset_and_the_row_is_in_Postgres_when_it_returns()
    {
        var topic = await CreateTopicAsync("p-send", 4);
        await using var producer = new Producer(_grains);

        var result = await producer.SendAsync(new Message(topic, "hello") { Tag = "created", Keys = ["order-1"] });
        var row = await _db.ReadRowAsync(topic, result.Queue.QueueId, result.QueueOffset);

        Assert.Equal(SendStatus.SendOk, result.Status);
        Assert.Matches("^[0-9A-F]{32}$", result.MsgId);
        Assert.Equal(topic, result.Queue.Topic);
        Assert.InRange(result.Queue.QueueId, 0, 3);
        Assert.Equal(0, result.QueueOffset);
        Assert.NotNull(row);
        Assert.Equal(result.MsgId, row.Value.MsgId);
        Assert.Equal("hello", Encoding.UTF8.GetString(row.Value.Body));
        Assert.Equal(1, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task Round_robin_spreads_sends_evenly_over_every_queue()
    {
        var topic = await CreateTopicAsync("p-rr", 4);
        await using var producer = new Producer(_grains);

        var results = new List<SendResult>();
        for (var i = 0; i < 12; i++)
        {
            results.Add(await producer.SendAsync(new Message(topic, $"m{i}")));
        }

        var perQueue = results.GroupBy(r => r.Queue.QueueId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([0, 1, 2, 3], perQueue.Keys.Order());
        Assert.All(perQueue.Values, n => Assert.Equal(3, n));
        for (var q = 0; q < 4; q++)
        {
            Assert.Equal(3, await _db.CountMessagesAsync(topic, q));
        }
    }

    [Fact]
    public async Task Two_thousand_concurrent_sends_all_succeed_at_unique_offsets_that_match_Postgres_in_fewer_calls()
    {
        const int sends = 2000;
        var topic = await CreateTopicAsync("p-many", 4);
        var recorder = new QueueCallRecorder(_grains);
        await using var producer = new Producer(recorder);

        var results = await Task.WhenAll(Enumerable.Range(0, sends).Select(i => producer.SendAsync(new Message(topic, $"m{i}")))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(sends, results.Select(r => r.MsgId).Distinct().Count());
        Assert.Equal(sends, results.Select(r => (r.Queue.QueueId, r.QueueOffset)).Distinct().Count());
        for (var q = 0; q < 4; q++)
        {
            var stored = await _db.ReadQueueAsync(topic, q);
            var acknowledged = results.Where(r => r.Queue.QueueId == q).Select(r => (r.QueueOffset, r.MsgId)).OrderBy(r => r.QueueOffset).ToList();
            Assert.Equal(acknowledged, stored);
            Assert.Equal(Enumerable.Range(0, stored.Count).Select(i => (long)i), stored.Select(r => r.Offset)); // no gap
        }
        Assert.Equal(sends, recorder.AppendedMessages);
        Assert.True(recorder.AppendCalls < sends, $"{recorder.AppendCalls} append calls for {sends} concurrent sends: the producer did not coalesce");
    }

    [Fact]
    public async Task A_batch_lands_in_one_queue_at_contiguous_offsets()
    {
        var topic = await CreateTopicAsync("p-batch", 4);
        await using var producer = new Producer(_grains);
        await producer.SendAsync(new Message(topic, "before"));

        var batch = Enumerable.Range(0, 10).Select(i => new Message(topic, $"b{i}")).ToList();
        var results = await producer.SendAsync(batch);

        var queueId = Assert.Single(results.Select(r => r.Queue.QueueId).Distinct());
        var first = results[0].QueueOffset;
        Assert.Equal(Enumerable.Range(0, 10).Select(i => first + i), results.Select(r => r.QueueOffset));
        var stored = await _db.ReadQueueAsync(topic, queueId);
        Assert.Equal(results.Select(r => (r.QueueOffset, r.MsgId)), stored.Where(r => r.Offset >= first));
        Assert.Equal(11, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task A_batch_with_one_invalid_message_stores_nothing()
    {
        var topic = await CreateTopicAsync("p-batch-bad", 2);
        await using var producer = new Producer(_grains);
        var batch = new[] { new Message(topic, "ok-0"), new Message(topic, Array.Empty<byte>()), new Message(topic, "ok-2") };

        var error = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(batch));

        Assert.Equal(MQErrorCode.EmptyBody, error.Code);
        Assert.Contains("message 1", error.Message);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task A_batch_over_4_MiB_mixing_topics_or_empty_is_refused_with_InvalidBatch()
    {
        var topic = await CreateTopicAsync("p-batch-limit", 2);
        var other = await CreateTopicAsync("p-batch-other", 2);
        await using var producer = new Producer(_grains);
        var mib = new byte[1024 * 1024];
        Array.Fill(mib, (byte)'x');

        var tooBig = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(Enumerable.Range(0, 5).Select(_ => new Message(topic, mib))));
        var mixed = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync([new Message(topic, "a"), new Message(other, "b")]));
        var empty = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(Array.Empty<Message>()));

        Assert.Equal(MQErrorCode.InvalidBatch, tooBig.Code);
        Assert.Equal(MQErrorCode.InvalidBatch, mixed.Code);
        Assert.Equal(MQErrorCode.InvalidBatch, empty.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
        Assert.Equal(0, await _db.CountMessagesAsync(other));
    }

    [Fact]
    public async Task The_hash_selector_sends_every_message_of_one_key_to_the_same_queue()
    {
        var topic = await CreateTopicAsync("p-hash", 8);
        await using var producer = new Producer(_grains);
        var keys = Enumerable.Range(0, 6).Select(i => $"order-{i}").ToList();

        var sent = new List<(string Key, SendResult Result)>();
        for (var round = 0; round < 3; round++)
        {
            foreach (var key in keys)
            {
                sent.Add((key, await producer.SendAsync(new Message(topic, $"{key}/{round}"), SelectMessageQueueByHash.Instance, key)));
            }
        }

        foreach (var group in sent.GroupBy(s => s.Key))
        {
            var queueId = Assert.Single(group.Select(s => s.Result.Queue.QueueId).Distinct());
            Assert.Equal(SelectMessageQueueByHash.IndexOf(group.Key, 8), queueId);
            Assert.Equal(group.Select(s => s.Result.QueueOffset).Order(), group.Select(s => s.Result.QueueOffset)); // in send order
        }
    }

    [Fact]
    public async Task A_selector_that_returns_a_foreign_queue_is_refused_with_InvalidArgument()
    {
        var topic = await CreateTopicAsync("p-badsel", 2);
        await using var producer = new Producer(_grains);

        var error = await Assert.ThrowsAsync<MQException>(() =>
            producer.SendAsync(new Message(topic, "x"), new FixedSelector(new MessageQueue(topic, 7)), null));

        Assert.Equal(MQErrorCode.InvalidArgument, error.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task One_way_sends_are_stored_and_dispose_waits_for_them()
    {
        var topic = await CreateTopicAsync("p-oneway", 4);
        var producer = new Producer(_grains);

        for (var i = 0; i < 20; i++)
        {
            await producer.SendOneWayAsync(new Message(topic, $"ow{i}"));
        }
        await producer.DisposeAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(20, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task The_callback_form_reports_success_to_onSuccess_and_bad_input_to_onException()
    {
        var topic = await CreateTopicAsync("p-callback", 4);
        await using var producer = new Producer(_grains);
        var successes = new ConcurrentQueue<SendResult>();
        var failures = new ConcurrentQueue<Exception>();

        await producer.SendAsync(new Message(topic, "good"), successes.Enqueue, failures.Enqueue).WaitAsync(Guard);
        var good = Assert.Single(successes);
        Assert.Empty(failures);
        await producer.SendAsync(new Message(topic, Array.Empty<byte>()), successes.Enqueue, failures.Enqueue).WaitAsync(Guard);

        Assert.Single(successes);
        var failure = Assert.IsType<MQException>(Assert.Single(failures));
        Assert.Equal(MQErrorCode.EmptyBody, failure.Code);
        Assert.Equal(good.MsgId, (await _db.ReadRowAsync(topic, good.Queue.QueueId, good.QueueOffset))?.MsgId);
        Assert.Equal(1, await _db.CountMessagesAsync(topic));
    }

    public static TheoryData<string, string> BadMessages() => new()
    {
        { "empty body", nameof(MQErrorCode.EmptyBody) },
        { "body over 4 MiB", nameof(MQErrorCode.BodyTooLarge) },
        { "properties over 32 KiB", nameof(MQErrorCode.InvalidProperties) },
        { "tag with ||", nameof(MQErrorCode.InvalidTag) },
        { "key with a space", nameof(MQErrorCode.InvalidKeys) },
        { "topic with a space", nameof(MQErrorCode.InvalidTopicName) },
        { "topic %DLQ%x", nameof(MQErrorCode.ReservedName) },
        { "topic %RETRY%x", nameof(MQErrorCode.ReservedName) },
        { "RocketMQ timer property __STARTDELIVERTIME", nameof(MQErrorCode.InvalidProperties) },
        { "RocketMQ timer property TIMER_DELAY_SEC", nameof(MQErrorCode.InvalidProperties) },
        { "RocketMQ transaction property TRAN_MSG", nameof(MQErrorCode.InvalidProperties) },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task Bad_input_is_refused_with_a_typed_error_and_nothing_is_sent(string what, string expectedCode)
    {
        var topic = UniqueName("p-bad");
        var message = what switch
        {
            "empty body" => new Message(topic, Array.Empty<byte>()),
            "body over 4 MiB" => new Message(topic, new byte[Limits.DefaultMaxBodyBytes + 1]),
            "properties over 32 KiB" => new Message(topic, "x") { Properties = { ["big"] = new string('p', 32 * 1024) } },
            "tag with ||" => new Message(topic, "x") { Tag = "a||b" },
            "key with a space" => new Message(topic, "x") { Keys = ["order 1"] },
            "topic with a space" => new Message("a b", "x"),
            "topic %DLQ%x" => new Message("%DLQ%x", "x"),
            "topic %RETRY%x" => new Message("%RETRY%x", "x"),
            // Stored as plain properties these would be delivered (or visible) at once: refused, naming the field to use.
            "RocketMQ timer property __STARTDELIVERTIME" => new Message(topic, "x") { Properties = { ["__STARTDELIVERTIME"] = "1893456000000" } },
            "RocketMQ timer property TIMER_DELAY_SEC" => new Message(topic, "x") { Properties = { ["TIMER_DELAY_SEC"] = "5" } },
            "RocketMQ transaction property TRAN_MSG" => new Message(topic, "x") { Properties = { ["TRAN_MSG"] = "true" } },
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        var recorder = new QueueCallRecorder(_grains);
        await using var producer = new Producer(recorder);

        var error = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(message));

        Assert.Equal(expectedCode, error.Code.ToString());
        Assert.Equal(0, recorder.AppendCalls);
        Assert.Equal(0, await _db.CountMessagesAsync(message.Topic));
        Assert.Equal(0, await _db.CountTopicRowsAsync(message.Topic)); // not even auto-created
    }

    [Fact]
    public async Task A_single_message_of_the_largest_body_with_properties_is_judged_alike_by_producer_and_broker()
    {
        var topic = await CreateTopicAsync("p-maxbody", 1);
        var recorder = new QueueCallRecorder(_grains);
        await using var producer = new Producer(recorder);
        var message = new Message(topic, new byte[Limits.DefaultMaxBodyBytes]) { Properties = { ["k"] = "v" } };

        try
        {
            var result = await producer.SendAsync(message);
            Assert.Equal(1, await _db.CountMessagesAsync(topic));
            Assert.Equal(0, result.QueueOffset);
        }
        catch (MQException e)
        {
            // Refusing it is fine, but as the client's own validation (nothing sent), never as a broker-side batch error.
            Assert.Equal(MQErrorCode.BodyTooLarge, e.Code);
            Assert.Equal(0, recorder.AppendCalls);
        }
    }

    [Fact]
    public async Task Sending_to_a_deleted_topic_fails_with_TopicDeleted()
    {
        var topic = await CreateTopicAsync("p-deleted", 2);
        await using var producer = new Producer(_grains);
        await producer.SendAsync(new Message(topic, "before")); // the producer now knows the route

        await _admin.DeleteTopicAsync(topic);
        var cachedRoute = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(new Message(topic, "after")));
        await using var fresh = new Producer(_grains);
        var freshRoute = await Assert.ThrowsAsync<MQException>(() => fresh.SendAsync(new Message(topic, "after")));

        Assert.Equal(MQErrorCode.TopicDeleted, cachedRoute.Code);
        Assert.Equal(MQErrorCode.TopicDeleted, freshRoute.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task A_disposed_producer_refuses_sends_with_ClientNotStarted()
    {
        var producer = new Producer(_grains);
        await producer.DisposeAsync();

        var error = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(new Message(UniqueName("p-disposed"), "x")));
        Assert.Equal(MQErrorCode.ClientNotStarted, error.Code);
    }

    [Fact]
    public void Out_of_range_options_are_refused_at_construction()
    {
        var badGroup = Assert.Throws<MQException>(() => new Producer(_grains, new ProducerOptions { ProducerGroup = "a b" }));
        var badTimeout = Assert.Throws<MQException>(() => new Producer(_grains, new ProducerOptions { SendMsgTimeout = TimeSpan.Zero }));

        Assert.Equal(MQErrorCode.InvalidGroupName, badGroup.Code);
        Assert.Equal(MQErrorCode.InvalidArgument, badTimeout.Code);
    }

    private sealed class FixedSelector(MessageQueue queue) : IMessageQueueSelector
    {
        public MessageQueue Select(IReadOnlyList<MessageQueue> queues, Message message, object? arg) => queue;
    }
}
