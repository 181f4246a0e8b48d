using OrleansMQ.Client;
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

    [Theory]
    [InlineData("DELAY", "3", "delay")]
    [InlineData("TIMER_DELIVER_MS", "1893456000000", "delay")]
    [InlineData("TRAN_MSG", "true", "transaction")]
    public async Task A_FIFO_topic_refuses_delay_and_transaction_messages_with_a_typed_error(string property, string value, string kind)
    {
        var topic = UniqueName("ord-fifo");
        var config = await _admin.CreateTopicAsync(topic, 2, TopicMessageType.Fifo);
        Assert.Equal(TopicMessageType.Fifo, config.MessageType);
        await using var producer = new Producer(_grains);

        var message = new Message(topic, "x") { MessageGroup = "order-1", Properties = { [property] = value } };
        var error = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(message));
        Assert.Equal(MQErrorCode.MessageTypeMismatch, error.Code);
        Assert.Contains($"a {kind} message", error.Message);

        // The broker checks too (a client that skipped the check).
        var direct = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Append(Batch(Message("x", properties: new Dictionary<string, string> { [property] = value }))));
        Assert.Equal(MQErrorCode.MessageTypeMismatch, direct.Code);
        Assert.All(await _admin.GetTopicStatusAsync(topic), q => Assert.Equal(0, q.MaxOffset));

        // Normal messages are welcome; a normal topic takes the delay message.
        await producer.SendAsync(new Message(topic, "ok") { MessageGroup = "order-1" });
        var normal = await _grains.CreateTopicAsync("ord-normal", 2);
        await producer.SendAsync(new Message(normal, "x") { Properties = { [property] = value } });
    }
}
