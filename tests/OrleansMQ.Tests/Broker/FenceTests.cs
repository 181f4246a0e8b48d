using System.Text;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

/// <summary>
/// The single-writer fence: omq_message's primary key. When another writer has taken the queue's next
/// offsets, the queue grain must reload the end of the queue and append after it: no gap, no overwrite.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class FenceTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task Append_after_a_second_writer_took_the_next_offsets_lands_after_them_without_gap_or_overwrite(int intruders)
    {
        var topic = await _grains.CreateTopicAsync("fence", queues: 2);
        var queue = _grains.Queue(topic, 1);
        var before = await queue.AppendAsync(3, "before");
        var intruderBody = Encoding.UTF8.GetBytes("written by someone else");
        for (var i = 0; i < intruders; i++)
        {
            await _db.InsertRowAsync(topic, 1, 3 + i, $"intruder-{i}", intruderBody);
        }

        var r1 = await queue.Append(Batch(Message("after-0"), Message("after-1")));
        var r2 = await queue.Append(Batch(Message("after-2")));

        Assert.Equal(3 + intruders, r1.FirstOffset);
        Assert.Equal(3 + intruders + 2, r2.FirstOffset);
        for (var i = 0; i < intruders; i++)
        {
            var row = await _db.ReadRowAsync(topic, 1, 3 + i);
            Assert.NotNull(row);
            Assert.Equal($"intruder-{i}", row.Value.MsgId);
            Assert.Equal(intruderBody, row.Value.Body);
        }
        var rows = await _db.ReadQueueAsync(topic, 1);
        var total = 3 + intruders + 3;
        Assert.Equal(Enumerable.Range(0, total).Select(o => (long)o), rows.Select(r => r.Offset));
        Assert.Equal(before.Select(m => m.MsgId), rows.Take(3).Select(r => r.MsgId));

        var pulled = await queue.Pull(new PullRequest("fence-reader", 0, MaxMessages: 64));
        Assert.Equal(rows.Select(r => r.MsgId), pulled.Messages.Select(m => m.MsgId));
        Assert.Equal(["after-0", "after-1", "after-2"], pulled.Messages.Skip(3 + intruders).Select(m => m.BodyAsString()));
        Assert.Equal(total, (await queue.GetStatus()).MaxOffset);
    }

    [Fact]
    public async Task Fence_conflict_on_one_queue_does_not_fail_appends_to_other_queues_sharing_the_commit()
    {
        const int queues = 4;
        var topic = await _grains.CreateTopicAsync("fence-shared", queues);
        for (var q = 0; q < queues; q++) await _grains.Queue(topic, q).AppendAsync(2);
        await _db.InsertRowAsync(topic, 0, 2, "intruder", [9]);

        // Concurrent appends to every queue, so the silo's group commit batches rows of several queues together.
        var sends = Enumerable.Range(0, 40).SelectMany(i => Enumerable.Range(0, queues).Select(async q =>
        {
            var message = Message($"q{q}-{i}");
            var result = await _grains.Queue(topic, q).Append(Batch(message));
            return (Queue: q, result.FirstOffset, message.MsgId);
        })).ToList();
        var acks = await Task.WhenAll(sends);

        for (var q = 0; q < queues; q++)
        {
            var rows = await _db.ReadQueueAsync(topic, q);
            var expected = q == 0 ? 2 + 1 + 40 : 2 + 40;
            Assert.Equal(Enumerable.Range(0, expected).Select(o => (long)o), rows.Select(r => r.Offset));
            foreach (var ack in acks.Where(a => a.Queue == q))
            {
                Assert.Equal(ack.MsgId, rows[(int)ack.FirstOffset].MsgId);
            }
        }
        Assert.Equal("intruder", (await _db.ReadRowAsync(topic, 0, 2))!.Value.MsgId);
    }
}
