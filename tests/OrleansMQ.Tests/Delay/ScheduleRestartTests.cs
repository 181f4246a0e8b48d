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
        // The schedules go to the silo that stops before anything is scheduled.
        var secondary = fixture.Cluster.SecondarySilos[0];
        var levelGrain = _grains.GetGrain<IDelayLevelGrain>(Level);
        var levelThere = await fixture.PlaceOnAsync(levelGrain, () => levelGrain.GetStatus(), secondary.SiloAddress);
        var timersThere = true;
        for (var queueId = 0; queueId < ScheduleTopics.TimerQueues; queueId++)
        {
            var timerGrain = _grains.GetGrain<ITimerGrain>(queueId);
            timersThere &= await fixture.PlaceOnAsync(timerGrain, () => timerGrain.GetStatus(), secondary.SiloAddress);
        }
        output.WriteLine($"level grain on the stopped silo: {levelThere}, timer grains: {timersThere}");
        Assert.True(levelThere && timersThere, "the schedules could not be placed on the silo this test stops, so it would prove nothing");

        await using var producer = new Producer(_grains);
        var delayed = await producer.SendAsync(new Message(topic, "delayed") { DelayLevel = Level });
        var timerDue = DateTimeOffset.UtcNow.AddSeconds(3);
        var timed = await producer.SendAsync(new Message(topic, "timed") { DeliverAt = timerDue });
        var management = _grains.GetGrain<IManagementGrain>(0);
        Assert.Equal(secondary.SiloAddress, await management.GetActivationAddress(levelGrain));
        Assert.Equal(secondary.SiloAddress, await management.GetActivationAddress(_grains.GetGrain<ITimerGrain>(timed.ScheduleQueue!.QueueId)));
        Assert.Empty(await ReadAllAsync(_grains, topic, 1));

        await fixture.Cluster.StopSiloAsync(secondary);

        var delivered = await WaitForMessagesAsync(_grains, topic, 1, 2, Guard);
        var fromLevel = Assert.Single(delivered, m => m.MsgId == delayed.MsgId);
        var fromTimer = Assert.Single(delivered, m => m.MsgId == timed.MsgId);
        Assert.True(fromLevel.StoredAt >= delayed.StoredAt + TimeSpan.FromSeconds(3), "the delayed message came early");
        Assert.True(fromTimer.StoredAt >= timerDue.ToMicroseconds().AddMilliseconds(-1), "the timer message came early");
        output.WriteLine($"delivered {(fromLevel.StoredAt - delayed.StoredAt - TimeSpan.FromSeconds(3)).TotalMilliseconds:0} ms and {(fromTimer.StoredAt - timerDue).TotalMilliseconds:0} ms after due");

        await fixture.Cluster.StartAdditionalSiloAsync();
    }
}
