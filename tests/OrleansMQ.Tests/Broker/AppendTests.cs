using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class AppendTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    [Fact]
    public async Task Append_returns_contiguous_offsets_and_its_rows_are_in_Postgres_when_it_returns()
    {
        var topic = await _grains.CreateTopicAsync("append");
        var queue = _grains.Queue(topic, 2);
        var first = new[] { Message("a"), Message("b"), Message("c") };
        var second = new[] { Message("d"), Message("e") };

        var r1 = await queue.Append(new AppendRequest(first));
        var inPostgresAfterFirst = await _db.ReadQueueAsync(topic, 2);
        var r2 = await queue.Append(new AppendRequest(second));
        var inPostgresAfterSecond = await _db.ReadQueueAsync(topic, 2);

        Assert.Equal(0, r1.FirstOffset);
        Assert.Equal(3, r2.FirstOffset);
        Assert.True(r2.StoredAt >= r1.StoredAt, "store times go forward within a queue");
        Assert.Equal(first.Select((m, i) => ((long)i, m.MsgId)), inPostgresAfterFirst);
        Assert.Equal(first.Concat(second).Select((m, i) => ((long)i, m.MsgId)), inPostgresAfterSecond);
        Assert.Equal(0, await _db.CountMessagesAsync(topic, 0));
        var status = await queue.GetStatus();
        Assert.Equal((0L, 5L), (status.MinOffset, status.MaxOffset));
        Assert.Equal(r2.StoredAt, status.LastStoredAt);
    }

    [Fact]
    public async Task Concurrent_appends_to_one_queue_get_offsets_without_gap_or_duplicate()
    {
        var topic = await _grains.CreateTopicAsync("append-concurrent", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var random = new Random(20240601);
        var batches = Enumerable.Range(0, 200)
            .Select(call => Enumerable.Range(0, random.Next(1, 6)).Select(i => Message($"call{call}-msg{i}")).ToArray())
            .ToArray();

        var results = await Task.WhenAll(batches.Select(async batch => (Batch: batch, Result: await queue.Append(new AppendRequest(batch)))));

        var total = batches.Sum(b => b.Length);
        var expected = new string[total];
        foreach (var (batch, result) in results)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                var offset = result.FirstOffset + i;
                Assert.InRange(offset, 0, total - 1);
                Assert.True(expected[offset] is null, $"offset {offset} was handed out twice");
                expected[offset] = batch[i].MsgId;
            }
        }
        var rows = await _db.ReadQueueAsync(topic, 0);
        Assert.Equal(expected.Select((msgId, offset) => ((long)offset, msgId)), rows);
        Assert.Equal(total, (await queue.GetStatus()).MaxOffset);
    }

    [Fact]
    public async Task A_batch_is_stored_atomically_in_order_with_every_field()
    {
        var topic = await _grains.CreateTopicAsync("append-fields", queues: 1);
        var queue = _grains.Queue(topic, 0);
        var bornAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToMicroseconds();
        var batch = new[]
        {
            new MessageData(MessageIds.NewId(), "created", ["order-1", "user-7"], [1, 2, 3], new Dictionary<string, string> { ["region"] = "eu", ["prio"] = "high" }, bornAt, "host-1", "pg-1", 2),
            new MessageData(MessageIds.NewId(), null, [], [4], null, bornAt, null, null),
        };

        var result = await queue.Append(new AppendRequest(batch));

        var stored = await _grains.Queue(topic, 0).Pull(new PullRequest("fields-reader", 0));
        Assert.Equal(PullStatus.Found, stored.Status);
        Assert.Equal(2, stored.Messages.Count);
        var m = stored.Messages[0];
        Assert.Equal((topic, 0, 0L, batch[0].MsgId, "created"), (m.Topic, m.QueueId, m.QueueOffset, m.MsgId, m.Tag));
        Assert.Equal(["order-1", "user-7"], m.Keys);
        Assert.Equal(new byte[] { 1, 2, 3 }, m.Body);
        Assert.Equal(batch[0].Properties, m.Properties);
        Assert.Equal((bornAt, 2, "pg-1", "host-1"), (m.BornAt, m.ReconsumeTimes, m.ProducerGroup, m.BornHost));
        Assert.Equal(result.StoredAt.ToMicroseconds(), m.StoredAt.ToMicroseconds());
        var n = stored.Messages[1];
        Assert.Equal((1L, batch[1].MsgId, (string?)null, (string?)null), (n.QueueOffset, n.MsgId, n.Tag, n.ProducerGroup));
        Assert.Empty(n.Keys);
        Assert.Equal(new byte[] { 4 }, n.Body);
    }
}
