using System.Collections.Concurrent;
using Orleans.Runtime;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

public sealed class SiloStopTests(SiloStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SiloStopClusterFixture>
{
    private const int Queues = 8;
    private const int Senders = 6;
    private const int AcksPerPhase = 500;
    private static readonly TimeSpan PhaseGuard = TimeSpan.FromSeconds(90);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    private sealed record Ack(int QueueId, long Offset, string MsgId);

    [Fact]
    public async Task Graceful_silo_stop_loses_no_acknowledged_message_and_leaves_no_gap()
    {
        var topic = await _grains.CreateTopicAsync("silo-stop", Queues);
        var secondary = fixture.Cluster.SecondarySilos[0];
        var onSecondary = await PlaceSomeQueuesOnAsync(topic, secondary.SiloAddress);
        output.WriteLine($"queue grains on the silo to be stopped: {onSecondary} of {Queues}");
        Assert.True(onSecondary > 0, "no queue grain could be placed on the silo this test stops, so it would prove nothing");

        var acks = new ConcurrentQueue<Ack>();
        var retried = new ConcurrentQueue<Exception>();
        var fatal = new ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, Senders).Select(s => Task.Run(async () =>
        {
            var random = new Random(s);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var queueId = (s + i) % Queues;
                // A fresh id per attempt: a retried send whose first attempt landed unacknowledged shows up as an extra row, never as a duplicate id.
                var batch = Enumerable.Range(0, random.Next(1, 4)).Select(j => Message($"s{s}-{i}-{j}")).ToArray();
                try
                {
                    var result = await _grains.Queue(topic, queueId).Append(new AppendRequest(batch));
                    for (var j = 0; j < batch.Length; j++) acks.Enqueue(new Ack(queueId, result.FirstOffset + j, batch[j].MsgId));
                }
                catch (MQException e) when (!e.IsRetryable)
                {
                    fatal.Enqueue(e);
                    return;
                }
                catch (Exception e)
                {
                    // Retryable broker errors and Orleans transport errors (silo shutting down, connection lost, timeout).
                    retried.Enqueue(e);
                    await Task.Delay(20);
                }
            }
        })).ToArray();

        try
        {
            await Eventually.PollAsync(() => Task.FromResult(acks.Count), n => n >= AcksPerPhase || fatal.Count > 0, PhaseGuard, "acknowledged sends before the stop");
            var beforeStop = acks.Count;
            await fixture.Cluster.StopSiloAsync(secondary);
            var afterStop = acks.Count;
            await Eventually.PollAsync(() => Task.FromResult(acks.Count), n => n >= afterStop + AcksPerPhase || fatal.Count > 0, PhaseGuard, "acknowledged sends after the stop");
            output.WriteLine($"acknowledged: {beforeStop} before the stop, {afterStop - beforeStop} during it, {acks.Count - afterStop} after it");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(senders).WaitAsync(PhaseGuard);
        }
        foreach (var kind in retried.GroupBy(e => e.GetType().Name)) output.WriteLine($"retried after {kind.Count()} × {kind.Key}: {kind.First().Message}");

        Assert.Empty(fatal);
        var stored = new Dictionary<int, IReadOnlyList<(long Offset, string MsgId)>>();
        for (var q = 0; q < Queues; q++)
        {
            var rows = await _db.ReadQueueAsync(topic, q);
            stored[q] = rows;
            Assert.Equal(Enumerable.Range(0, rows.Count).Select(o => (long)o), rows.Select(r => r.Offset));
            Assert.Equal(rows.Count, (await _grains.Queue(topic, q).GetStatus()).MaxOffset);
        }
        var allIds = stored.Values.SelectMany(rows => rows.Select(r => r.MsgId)).ToList();
        Assert.Equal(allIds.Count, allIds.Distinct(StringComparer.Ordinal).Count());
        foreach (var ack in acks)
        {
            var rows = stored[ack.QueueId];
            Assert.True(ack.Offset < rows.Count, $"acknowledged {ack.MsgId} at {ack.QueueId}:{ack.Offset} but queue {ack.QueueId} ends at {rows.Count}");
            Assert.Equal(ack.MsgId, rows[(int)ack.Offset].MsgId);
        }
        output.WriteLine($"stored {allIds.Count} rows for {acks.Count} acknowledged messages");
    }

    /// <summary>Puts every other queue grain of <paramref name="topic"/> on <paramref name="silo"/>; returns how many live there.</summary>
    private async Task<int> PlaceSomeQueuesOnAsync(string topic, SiloAddress silo)
    {
        var there = 0;
        for (var q = 0; q < Queues; q += 2)
        {
            var queue = _grains.Queue(topic, q);
            if (await fixture.PlaceOnAsync(queue, () => queue.GetStatus(), silo)) there++;
        }
        return there;
    }
}
