using Orleans.Runtime;
using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Delay.ScheduleTestKit;

namespace OrleansMQ.Tests.Delay;

/// <summary>
/// Schedules outlive their activations: the silo hosting a delay level and a timer queue stops between send and
/// due time, no new message arrives, and both messages are still delivered (not early), by activations on the
/// silo that is left, which reload their schedule from Postgres when the schedule watchdog wakes them.
/// </summary>
public sealed class ScheduleRestartTests(SiloStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SiloStopClusterFixture>
{
    private const int Level = 15; // 3 s in the test table
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(40);

    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task Delayed_and_timer_messages_survive_the_stop_of_the_silo_hosting_their_schedules()
    {
        var topic = await _grains.CreateTopicAsync("delay-restart", 1);
        // The schedules go to the silo that stops before anything is scheduled. Now and then a timer grain will not
        // leave its silo on a loaded machine; one timer queue there is enough, and the timer sends below look for it.
        var secondary = fixture.Cluster.SecondarySilos[0];
        var levelGrain = _grains.GetGrain<IDelayLevelGrain>(Level);
        Assert.True(await fixture.PlaceOnAsync(levelGrain, () => levelGrain.GetStatus(), secondary.SiloAddress),
            "the delay level could not be placed on the silo this test stops, so it would prove nothing");
        var timerQueuesThere = new HashSet<int>();
        for (var queueId = 0; queueId < ScheduleTopics.TimerQueues; queueId++)
        {
            var timerGrain = _grains.GetGrain<ITimerGrain>(queueId);
            if (await fixture.PlaceOnAsync(timerGrain, () => timerGrain.GetStatus(), secondary.SiloAddress, TimeSpan.FromSeconds(20))) timerQueuesThere.Add(queueId);
        }
        output.WriteLine($"timer queues on the silo to stop: {string.Join(", ", timerQueuesThere)}");
        Assert.NotEmpty(timerQueuesThere);

        await using var producer = new Producer(_grains);
        var delayed = await producer.SendAsync(new Message(topic, "delayed") { DelayLevel = Level });
        var timerDue = DateTimeOffset.UtcNow.AddSeconds(3);
        // Timer sends go round-robin over the timer queues: send until one is scheduled on the silo that stops.
        var timed = new List<SendResult>();
        while (timed.Count < 2 * ScheduleTopics.TimerQueues && !timed.Any(t => timerQueuesThere.Contains(t.ScheduleQueue!.QueueId)))
        {
            timed.Add(await producer.SendAsync(new Message(topic, $"timed-{timed.Count}") { DeliverAt = timerDue }));
        }
        var onStopped = timed.First(t => timerQueuesThere.Contains(t.ScheduleQueue!.QueueId));
        Assert.Equal([secondary.SiloAddress], await fixture.HostsOfAsync(levelGrain));
        Assert.Equal([secondary.SiloAddress], await fixture.HostsOfAsync(_grains.GetGrain<ITimerGrain>(onStopped.ScheduleQueue!.QueueId)));
        Assert.Empty(await ReadAllAsync(_grains, topic, 1));

        await fixture.Cluster.StopSiloAsync(secondary);

        var delivered = await WaitForMessagesAsync(_grains, topic, 1, 1 + timed.Count, Guard);
        var fromLevel = Assert.Single(delivered, m => m.MsgId == delayed.MsgId);
        var fromTimer = Assert.Single(delivered, m => m.MsgId == onStopped.MsgId);
        foreach (var sent in timed)
        {
            var message = Assert.Single(delivered, m => m.MsgId == sent.MsgId);
            Assert.True(message.StoredAt >= timerDue.ToMicroseconds().AddMilliseconds(-1), $"timer message {sent.MsgId} came early");
        }
        Assert.True(fromLevel.StoredAt >= delayed.StoredAt + TimeSpan.FromSeconds(3), "the delayed message came early");
        output.WriteLine($"delivered {(fromLevel.StoredAt - delayed.StoredAt - TimeSpan.FromSeconds(3)).TotalMilliseconds:0} ms and {(fromTimer.StoredAt - timerDue).TotalMilliseconds:0} ms after due");

        await fixture.Cluster.StartAdditionalSiloAsync();
    }
}
