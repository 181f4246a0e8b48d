using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Retry;
using OrleansMQ.Tests.Client;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Validation;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Retry;

/// <summary>
/// Broker-side retry on the shared cluster (short delay table): a failing message climbs the retry ladder on
/// %RETRY%&lt;group&gt;, lands once in %DLQ%&lt;group&gt;, can be resent from there, and never holds others back.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class RetryTests(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private static readonly DelayLevelTable Table = DelayLevelTable.Parse(TestSiloConfigurator.DelayLevels);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    private sealed record Delivery(MessageExt Message, DateTimeOffset ReceivedAt);

    [Fact]
    public async Task A_consumed_message_resent_to_one_group_reaches_that_group_again_and_no_other()
    {
        var topic = await _grains.CreateTopicAsync("retry-resend", 1);
        var (billing, audit) = (UniqueName("g-billing"), UniqueName("g-audit"));
        await using var producer = new Producer(_grains);
        var message = new Message(topic, "order 7 paid") { Tag = "paid" };
        message.Properties["region"] = "eu";
        var sent = await producer.SendAsync(message);
        var received = new ConcurrentQueue<(string Group, MessageExt Message)>();
        await using var billingConsumer = await StartAsync(billing);
        await using var auditConsumer = await StartAsync(audit);
        await Eventually.PollAsync(() => Task.FromResult(received.Count), c => c >= 2, Guard, "both groups to consume the message once");

        var result = await _admin.ResendMessageAsync(billing, topic, sent.Queue.QueueId, sent.QueueOffset);

        Assert.Equal((sent.MsgId, Names.RetryTopic(billing)), (result.MsgId, result.Topic));
        await Eventually.PollAsync(() => Task.FromResult(received.Count(r => r.Group == billing)), c => c >= 2, Guard, "billing to get the message again");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var again = received.Where(r => r.Group == billing).Last().Message;
        Assert.Equal((sent.MsgId, topic, "paid", "eu", 0), (again.MsgId, again.Topic, again.Tag, again.GetProperty("region"), again.ReconsumeTimes));
        Assert.NotNull(again.GetProperty(MessageConst.ResentAt));
        Assert.Single(received, r => r.Group == audit);
        var missing = await Assert.ThrowsAsync<MQException>(() => _admin.ResendMessageAsync(billing, topic, 0, 99));
        Assert.Equal(MQErrorCode.MessageNotFound, missing.Code);

        async Task<PushConsumer> StartAsync(string group)
        {
            var consumer = new PushConsumer(_grains, PushConsumerTests.Options(group));
            consumer.Subscribe(topic);
            consumer.RegisterMessageListener((messages, _, _) =>
            {
                foreach (var m in messages) received.Enqueue((group, m));
                return Task.FromResult(ConsumeResult.Success);
            });
            await consumer.StartAsync();
            return consumer;
        }
    }

    [Fact]
    public async Task An_always_failing_message_walks_the_retry_ladder_and_lands_once_in_the_DLQ_then_resend_delivers_it_again()
    {
        const int maxReconsumeTimes = 3;
        var topic = await _grains.CreateTopicAsync("retry-ladder", 1);
        var group = UniqueName("g-ladder");
        await using var producer = new Producer(_grains);
        var message = new Message(topic, "poison") { Tag = "t", Keys = ["order-1"] };
        message.Properties["region"] = "eu";
        var sent = await producer.SendAsync(message);

        var deliveries = new ConcurrentQueue<Delivery>();
        var healed = 0;
        var options = PushConsumerTests.Options(group);
        options.MaxReconsumeTimes = maxReconsumeTimes;
        await using var consumer = new PushConsumer(_grains, options);
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            foreach (var m in messages) deliveries.Enqueue(new Delivery(m, DateTimeOffset.UtcNow));
            return Task.FromResult(Volatile.Read(ref healed) == 1 ? ConsumeResult.Success : ConsumeResult.ReconsumeLater);
        });
        await consumer.StartAsync();

        var dead = await Eventually.PollAsync(() => _admin.ListDeadLettersAsync(group), d => d.Count > 0, Guard, "the message to reach the DLQ");
        await Task.Delay(Table.DelayOf(Table.Count) + TimeSpan.FromMilliseconds(500)); // nothing more comes, nothing lands twice
        dead = await _admin.ListDeadLettersAsync(group);

        var letter = Assert.Single(dead);
        Assert.Equal(sent.MsgId, letter.Message.MsgId);
        Assert.Equal(maxReconsumeTimes, letter.Message.ReconsumeTimes);
        Assert.Equal(Names.DlqTopic(group), letter.Message.Topic);
        Assert.Equal(topic, letter.Message.GetProperty(MessageConst.RetryTopic));
        Assert.Equal("eu", letter.Message.GetProperty("region"));
        Assert.Null(letter.ResentAt);

        var ladder = deliveries.ToList();
        Assert.Equal(Enumerable.Range(0, maxReconsumeTimes + 1), ladder.Select(d => d.Message.ReconsumeTimes));
        foreach (var d in ladder)
        {
            // The handler sees the original topic, id, tag, keys, body and properties at every step.
            Assert.Equal(topic, d.Message.Topic);
            Assert.Equal(sent.MsgId, d.Message.MsgId);
            Assert.Equal("t", d.Message.Tag);
            Assert.Equal(["order-1"], d.Message.Keys);
            Assert.Equal("poison", d.Message.BodyAsString());
            Assert.Equal("eu", d.Message.GetProperty("region"));
            // Queue, queue id and offset say where this delivery was read from: the topic first, then the retry queue.
            Assert.Equal(d.Message.ReconsumeTimes == 0 ? new MessageQueue(topic, 0) : new MessageQueue(Names.RetryTopic(group), 0), d.Message.Queue);
        }
        for (var k = 1; k < ladder.Count; k++)
        {
            // Retry k waited at least the delay of level 3 + (k - 1) after the failure before it.
            var delay = Table.DelayOf(Table.RetryLevel(k - 1));
            Assert.True(ladder[k].Message.StoredAt >= ladder[k - 1].ReceivedAt.ToMicroseconds() + delay,
                $"retry {k} came {(ladder[k].Message.StoredAt - ladder[k - 1].ReceivedAt).TotalMilliseconds:0} ms after the failure; level {Table.RetryLevel(k - 1)} is {delay.TotalMilliseconds} ms");
            output.WriteLine($"retry {k}: {(ladder[k].Message.StoredAt - ladder[k - 1].ReceivedAt).TotalMilliseconds:0} ms after the failure (level {Table.RetryLevel(k - 1)} = {delay.TotalMilliseconds} ms)");
        }

        Volatile.Write(ref healed, 1);
        var resent = Assert.Single(await _admin.ResendDeadLettersAsync(group, [sent.MsgId]));
        Assert.Equal(sent.MsgId, resent.MsgId);
        var again = await Eventually.PollAsync(() => Task.FromResult(deliveries.Count), c => c > ladder.Count, Guard, "the resent message to be delivered");
        var last = deliveries.Last();
        Assert.Equal(sent.MsgId, last.Message.MsgId);
        Assert.Equal(0, last.Message.ReconsumeTimes);
        Assert.Equal(topic, last.Message.Topic);
        Assert.NotNull(Assert.Single(await _admin.ListDeadLettersAsync(group)).ResentAt);
        Assert.Empty(await _admin.ResendDeadLettersAsync(group, null)); // --all resends only what was never resent
        var missing = await Assert.ThrowsAsync<MQException>(() => _admin.ResendDeadLettersAsync(group, ["NO-SUCH-ID"]));
        Assert.Equal(MQErrorCode.MessageNotFound, missing.Code);
        output.WriteLine($"deliveries: {again}");
    }

    [Fact]
    public async Task Retry_of_one_message_never_blocks_the_others()
    {
        var topic = await _grains.CreateTopicAsync("retry-noblock", 1);
        var group = UniqueName("g-noblock");
        await using var producer = new Producer(_grains);
        var poison = await producer.SendAsync(new Message(topic, "poison"));
        var others = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => producer.SendAsync(new Message(topic, $"ok {i}"))));

        var consumed = new ConcurrentDictionary<string, int>();
        var options = PushConsumerTests.Options(group);
        options.MaxReconsumeTimes = 16;
        await using var consumer = new PushConsumer(_grains, options);
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            var m = Assert.Single(messages);
            consumed.AddOrUpdate(m.MsgId, 1, (_, n) => n + 1);
            return Task.FromResult(m.MsgId == poison.MsgId ? ConsumeResult.ReconsumeLater : ConsumeResult.Success);
        });
        await consumer.StartAsync();

        // Every other message is consumed and the queue's offset reaches its end while the poison message is still retrying.
        await Eventually.PollAsync(() => _grains.Queue(topic, 0).GetCommittedOffset(group), o => o == 51, Guard, "the queue's offset to reach its end");
        Assert.All(others, o => Assert.Equal(1, consumed.GetValueOrDefault(o.MsgId)));
        Assert.Empty(await _admin.ListDeadLettersAsync(group));
        Assert.InRange(consumed[poison.MsgId], 1, 16);
    }

    [Fact]
    public async Task A_consumer_that_retries_in_place_can_put_a_message_straight_into_the_DLQ()
    {
        var topic = await _grains.CreateTopicAsync("retry-direct-dlq", 1);
        var group = UniqueName("g-orderly");
        await _grains.Queue(topic, 0).Append(Batch(Message("ordered")));
        var pulled = Assert.Single((await _grains.Queue(topic, 0).Pull(new Queues.PullRequest(group, 0))).Messages);
        var stamped = pulled with { ReconsumeTimes = 16 };

        var result = await _grains.GetGrain<IRetryGrain>(group).SendToDeadLetter(stamped, "orderly: failed 16 times in place");
        Assert.True(result.DeadLettered);
        var letter = Assert.Single(await _admin.ListDeadLettersAsync(group)).Message;
        Assert.Equal(pulled.MsgId, letter.MsgId);
        Assert.Equal(16, letter.ReconsumeTimes);
        Assert.Equal("orderly: failed 16 times in place", letter.GetProperty(MessageConst.DlqReason));
        Assert.Equal($"{topic}:0:0", letter.GetProperty(MessageConst.OriginQueueOffset));
    }

    [Fact]
    public async Task Bad_retry_requests_are_typed_errors()
    {
        var group = UniqueName("g-bad");
        var message = new MessageExt("t", 0, 0, "id", null, [], [1], null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 0, null, null);
        var tooMany = await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IRetryGrain>(group).SendBack(new SendBackRequest(message, MaxReconsumeTimes: 1000)));
        Assert.Equal(MQErrorCode.InvalidArgument, tooMany.Code);
        var badLevel = await Assert.ThrowsAsync<MQException>(() => _grains.GetGrain<IRetryGrain>(group).SendBack(new SendBackRequest(message, DelayLevel: 40)));
        Assert.Equal(MQErrorCode.InvalidDelayLevel, badLevel.Code);
        Assert.Equal(MQErrorCode.InvalidArgument, (await Assert.ThrowsAsync<MQException>(() => _admin.ListDeadLettersAsync(group, 0, 0))).Code);
        Assert.Equal(MQErrorCode.ReservedName, Assert.Throws<MQException>(() => { _ = _admin.ListDeadLettersAsync("%DLQ%x"); }).Code);
        var options = new PushConsumerOptions { ConsumerGroup = "g", MaxReconsumeTimes = -2 };
        Assert.Equal(MQErrorCode.InvalidArgument, Assert.Throws<MQException>(() => new PushConsumer(_grains, options)).Code);
    }
}
