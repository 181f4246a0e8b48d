using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Ordered;

/// <summary>Ordered sending: message groups map to one queue, and FIFO topics refuse delay and transaction messages.</summary>
[Collection(BrokerCollection.Name)]
public sealed class OrderedSendTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    [Fact]
    public async Task Messages_of_one_message_group_go_to_the_queue_its_hash_selects_and_carry_the_group()
    {
        var topic = await _grains.CreateTopicAsync("ord-group", 8);
        await using var producer = new Producer(_grains);
        var results = new List<SendResult>();
        for (var i = 0; i < 10; i++)
        {
            results.Add(await producer.SendAsync(new Message(topic, $"m{i}") { MessageGroup = "order-42" }));
        }
        var expected = SelectMessageQueueByHash.IndexOf("order-42", 8);
        Assert.All(results, r => Assert.Equal(expected, r.Queue.QueueId));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), results.Select(r => r.QueueOffset)); // send order = queue order

        var pulled = await _grains.Queue(topic, expected).Pull(new PullRequest(UniqueName("g"), 0, 10));
        Assert.All(pulled.Messages, m => Assert.Equal("order-42", m.GetProperty(MessageTypeRules.MessageGroupProperty)));
    }

    [Fact]
    public async Task A_batch_mixing_message_groups_is_refused_before_anything_is_sent()
    {
        var topic = await _grains.CreateTopicAsync("ord-batch", 4);
        await using var producer = new Producer(_grains);
        var error = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(
            [new Message(topic, "a") { MessageGroup = "x" }, new Message(topic, "b") { MessageGroup = "y" }]));
        Assert.Equal(MQErrorCode.InvalidBatch, error.Code);
        Assert.All(await _admin.GetTopicStatusAsync(topic), q => Assert.Equal(0, q.MaxOffset));
    }

    // A transaction message comes only from a TransactionProducer (a hand-set TRAN_MSG is refused as a property first);
    // TransactionTests sends one to a FIFO topic.
    public static TheoryData<string> NotForFifo => ["delay level", "deliver after"];

    private static Message Kind(string topic, string kind, string body) => kind switch
    {
        "delay level" => new Message(topic, body) { MessageGroup = "order-1", DelayLevel = 3 },
        "deliver after" => new Message(topic, body) { MessageGroup = "order-1", DeliverAfter = TimeSpan.FromMinutes(5) },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(NotForFifo))]
    public async Task A_FIFO_topic_refuses_delay_and_transaction_messages_with_a_typed_error(string kind)
    {
        var topic = UniqueName("ord-fifo");
        var config = await _admin.CreateTopicAsync(topic, 2, TopicMessageType.Fifo);
        Assert.Equal(TopicMessageType.Fifo, config.MessageType);
        await using var producer = new Producer(_grains);

        var error = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(Kind(topic, kind, "x")));
        Assert.Equal(MQErrorCode.MessageTypeMismatch, error.Code);
        Assert.Contains("a delay message", error.Message);
        Assert.All(await _admin.GetTopicStatusAsync(topic), q => Assert.Equal(0, q.MaxOffset));

        // Normal messages are welcome; a normal topic takes the same message.
        await producer.SendAsync(new Message(topic, "ok") { MessageGroup = "order-1" });
        var normal = await _grains.CreateTopicAsync("ord-normal", 2);
        await producer.SendAsync(Kind(normal, kind, "x"));
    }

    [Fact]
    public async Task The_broker_refuses_delay_and_transaction_messages_for_a_FIFO_topic_from_a_client_that_skipped_the_check()
    {
        var topic = UniqueName("ord-fifo-direct");
        await _admin.CreateTopicAsync(topic, 2, TopicMessageType.Fifo);
        var properties = new Dictionary<string, string>
        {
            [MessageConst.RealTopic] = topic,
            [MessageConst.RealQueueId] = "0",
        };

        var delayed = await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IDelayLevelGrain>(1).Schedule(Batch(Message("x", properties: properties))));
        var stamped = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Append(Batch(Message("x", properties: new Dictionary<string, string> { [MessageConst.DelayLevel] = "3" }))));
        var transaction = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Append(Batch(Message("x", properties: new Dictionary<string, string> { [MessageTypeRules.TransactionProperty] = "true" }))));

        Assert.All([delayed, stamped, transaction], e => Assert.Equal(MQErrorCode.MessageTypeMismatch, e.Code));
        Assert.All(await _admin.GetTopicStatusAsync(topic), q => Assert.Equal(0, q.MaxOffset));
    }
}
