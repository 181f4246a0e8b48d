using Orleans.Runtime;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class OffsetTests(BrokerClusterFixture fixture)
{
    /// <summary>Several flush intervals: the bound of a wait for a background flush, not a speed claim.</summary>
    private static readonly TimeSpan FlushWait = TestSiloConfigurator.OffsetFlushInterval * 10;

    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    [Fact]
    public async Task CommitOffset_with_flush_is_in_Postgres_when_it_returns()
    {
        var topic = await _grains.CreateTopicAsync("offset-flush", queues: 2);
        var group = TestData.UniqueName("g");
        var queue = _grains.Queue(topic, 1);
        await queue.AppendAsync(5);
        Assert.Equal(-1, await queue.GetCommittedOffset(group));

        var committed = await queue.CommitOffset(group, 3, flush: true);

        Assert.Equal(3, committed);
        Assert.Equal(3, await _db.ReadConsumerOffsetAsync(group, topic, 1));
        Assert.Equal(3, await queue.GetCommittedOffset(group));

        Assert.Equal(5, await queue.CommitOffset(group, 5, flush: true));
        Assert.Equal(5, await _db.ReadConsumerOffsetAsync(group, topic, 1));
    }

    [Fact]
    public async Task Offset_committed_by_a_pull_is_persisted_within_the_flush_interval()
    {
        var topic = await _grains.CreateTopicAsync("offset-piggyback", queues: 1);
        var group = TestData.UniqueName("g");
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(6);

        var pull = await queue.Pull(new PullRequest(group, 4, CommitOffset: 4));
        Assert.Equal(2, pull.Messages.Count);
        Assert.Equal(4, await queue.GetCommittedOffset(group));

        var stored = await Eventually.PollAsync(() => _db.ReadConsumerOffsetAsync(group, topic, 0), o => o == 4, FlushWait, "the pulled commit offset in omq_consumer_offset");
        Assert.Equal(4, stored);

        var unflushed = await queue.CommitOffset(group, 6, flush: false);
        Assert.Equal(6, unflushed);
        await Eventually.PollAsync(() => _db.ReadConsumerOffsetAsync(group, topic, 0), o => o == 6, FlushWait, "the unflushed commit in omq_consumer_offset");
    }

    [Fact]
    public async Task Committed_offset_survives_the_deactivation_of_the_queue_grain()
    {
        var topic = await _grains.CreateTopicAsync("offset-survive", queues: 1);
        var group = TestData.UniqueName("g");
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(8);
        // Piggy-backed on a pull and not flushed: only deactivation (or the timer) persists it.
        await queue.Pull(new PullRequest(group, 7, CommitOffset: 7));

        await _grains.DeactivateAsync(queue);

        Assert.Equal(7, await queue.GetCommittedOffset(group));
        Assert.Equal(7, await _db.ReadConsumerOffsetAsync(group, topic, 0));
        var status = await queue.GetStatus();
        Assert.Equal(8, status.MaxOffset);
        var progress = await queue.GetProgress(group);
        Assert.Equal((8L, 7L, 1L), (progress.BrokerOffset, progress.ConsumerOffset, progress.Lag));
    }

    [Fact]
    public async Task Commit_beyond_the_end_of_the_queue_is_clamped_and_the_clamped_offset_returned()
    {
        var topic = await _grains.CreateTopicAsync("offset-clamp", queues: 1);
        var group = TestData.UniqueName("g");
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(4);

        var high = await queue.CommitOffset(group, 1000, flush: true);
        Assert.Equal(4, high);
        Assert.Equal(4, await queue.GetCommittedOffset(group));
        Assert.Equal(4, await _db.ReadConsumerOffsetAsync(group, topic, 0));

        var low = await queue.CommitOffset(group, -5, flush: true);
        Assert.Equal(0, low);
        Assert.Equal(0, await _db.ReadConsumerOffsetAsync(group, topic, 0));

        await queue.Pull(new PullRequest(group, 0, CommitOffset: 99));
        Assert.Equal(4, await queue.GetCommittedOffset(group));
    }
}
