using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using OrleansMQ.Grains.Retention;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Queries;

/// <summary>
/// The retention sweep on the shared cluster: store times are moved into the past in Postgres, then one
/// sweep runs through the silo's own <see cref="RetentionSweeper"/>, as its background service would.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class RetentionTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    private RetentionSweeper Sweeper =>
        ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost!.Services.GetRequiredService<RetentionSweeper>();

    private async Task AgeAsync(string topic, int queueId, long belowOffset, TimeSpan by)
    {
        await using var cmd = _db.DataSource.CreateCommand(
            "UPDATE omq_message SET stored_at = stored_at - $4 WHERE topic = $1 AND queue_id = $2 AND queue_offset < $3");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = queueId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = belowOffset });
        cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = by });
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Messages_older_than_the_topics_retention_are_removed_and_consumers_resume_at_the_new_start()
    {
        var topic = await _grains.CreateTopicAsync("retention", queues: 2);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(8);
        await _grains.Queue(topic, 1).AppendAsync(3);
        await AgeAsync(topic, 0, belowOffset: 5, by: TimeSpan.FromHours(73));

        var removed = await Sweeper.SweepAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.True(removed >= 5, $"removed {removed}");
        Assert.Equal([5L, 6L, 7L], (await _db.ReadQueueAsync(topic, 0)).Select(r => r.Offset));
        Assert.Equal(3, await _db.CountMessagesAsync(topic, 1));
        var status = await queue.GetStatus();
        Assert.Equal((5L, 8L), (status.MinOffset, status.MaxOffset));
        var pull = await queue.Pull(new PullRequest(UniqueName("behind"), QueueOffset: 0));
        Assert.Equal((PullStatus.OffsetIllegal, 5L), (pull.Status, pull.NextBeginOffset));
    }

    [Fact]
    public async Task A_queue_keeps_its_newest_message_so_offsets_never_restart()
    {
        var topic = await _grains.CreateTopicAsync("retention-all-old", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(4);
        await AgeAsync(topic, 0, belowOffset: long.MaxValue, by: TimeSpan.FromDays(10));

        await Sweeper.SweepAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Equal([3L], (await _db.ReadQueueAsync(topic, 0)).Select(r => r.Offset));
        // A new activation derives the end of the queue from the rows: it must still be 4.
        await _grains.DeactivateAsync(queue);
        var appended = await queue.Append(Batch(Message("after the sweep")));
        Assert.Equal(4, appended.FirstOffset);
    }

    [Fact]
    public async Task Messages_inside_the_retention_are_kept()
    {
        var topic = await _grains.CreateTopicAsync("retention-young", queues: 1);
        await _grains.Queue(topic, 0).AppendAsync(3);
        await AgeAsync(topic, 0, belowOffset: 3, by: TimeSpan.FromHours(71));

        await Sweeper.SweepAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Equal(3, await _db.CountMessagesAsync(topic, 0));
    }

    [Fact]
    public async Task Pending_timer_messages_survive_the_sweep_however_old_their_rows_are()
    {
        var topic = await _grains.CreateTopicAsync("retention-timer", queues: 1);
        await using var producer = new OrleansMQ.Client.Producer(_grains);
        var ids = new List<string>();
        // More timers than timer queues: some queue holds two, so the older one is not kept as the queue's newest row.
        for (var i = 0; i < 2 * OrleansMQ.Delay.ScheduleTopics.TimerQueues; i++)
        {
            var sent = await producer.SendAsync(new OrleansMQ.Client.Message(topic, $"due in 20 h #{i}") { DeliverAfter = TimeSpan.FromHours(20) });
            ids.Add(sent.MsgId);
        }
        await using (var age = _db.DataSource.CreateCommand("UPDATE omq_message SET stored_at = stored_at - interval '10 days' WHERE msg_id = ANY($1)"))
        {
            age.Parameters.AddWithValue(ids.ToArray());
            Assert.Equal(ids.Count, await age.ExecuteNonQueryAsync());
        }

        await Sweeper.SweepAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        await using var count = _db.DataSource.CreateCommand("SELECT count(*) FROM omq_message WHERE msg_id = ANY($1)");
        count.Parameters.AddWithValue(ids.ToArray());
        Assert.Equal((long)ids.Count, await count.ExecuteScalarAsync());
    }
}
