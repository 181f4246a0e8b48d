using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Ordered.OrderedTestKit;

namespace OrleansMQ.Tests.Ordered;

/// <summary>An orderly consumer with a reconsume limit: the failing message goes to the group's DLQ and the queue goes on, in order.</summary>
[Collection(BrokerCollection.Name)]
public sealed class OrderlyDeadLetterTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    [Fact]
    public async Task After_maxReconsumeTimes_failures_an_orderly_message_is_dead_lettered_once_and_the_queue_goes_on_in_order()
    {
        var topic = await _grains.CreateTopicAsync("ord-dlq", 1);
        var group = UniqueName("g");
        await using (var producer = new Producer(_grains))
        {
            for (var i = 0; i < 5; i++) await producer.SendAsync(new Message(topic, $"m{i}"));
        }
        var delivered = new ConcurrentQueue<(string Body, int ReconsumeTimes)>();
        var options = Options(group);
        options.MaxReconsumeTimes = 2;
        await using var consumer = new PushConsumer(_grains, options);
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            foreach (var m in messages) delivered.Enqueue((m.BodyAsString(), m.ReconsumeTimes));
            return Task.FromResult(messages.Any(m => m.BodyAsString() == "m2") ? ConsumeOrderlyStatus.SuspendCurrentQueueAMoment : ConsumeOrderlyStatus.Success);
        });
        await consumer.StartAsync();

        await Eventually.PollAsync(() => Task.FromResult(delivered.Count(d => d.Body == "m4")), n => n >= 1, TimeSpan.FromSeconds(30), "m4 after the dead-lettered m2");

        // m2 came three times (its first delivery and maxReconsumeTimes = 2 retries), then the rest in order.
        Assert.Equal(["m0", "m1", "m2", "m2", "m2", "m3", "m4"], delivered.Select(d => d.Body));
        Assert.Equal([0, 1, 2], delivered.Where(d => d.Body == "m2").Select(d => d.ReconsumeTimes));
        var dead = Assert.Single(await _admin.ListDeadLettersAsync(group));
        Assert.Equal(("m2", 2), (dead.Message.BodyAsString(), dead.Message.ReconsumeTimes));
    }
}
