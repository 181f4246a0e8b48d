using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Delay.ScheduleTestKit;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Delay;

/// <summary>Timer messages (DeliverAt / DeliverAfter) on the shared cluster: arbitrary times, past times, the horizon.</summary>
[Collection(BrokerCollection.Name)]
public sealed class TimerMessageTests(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task Deliver_at_arbitrary_times_is_never_early()
    {
        var topic = await _grains.CreateTopicAsync("timer-at", 2);
        await using var producer = new Producer(_grains);
        var start = DateTimeOffset.UtcNow;
        // Out of order on purpose: 1.7 s, 0.3 s, 1.1 s, 2.3 s, 0.9 s.
        var offsets = new[] { 1700, 300, 1100, 2300, 900 };
        var sent = await Task.WhenAll(offsets.Select(ms =>
            producer.SendAsync(new Message(topic, $"at +{ms}") { DeliverAt = start.AddMilliseconds(ms), Keys = [$"T{ms}"] })));

        var delivered = await WaitForMessagesAsync(_grains, topic, 2, offsets.Length, Guard);
        var lateness = new List<double>();
        foreach (var (ms, result) in offsets.Zip(sent))
        {
            var message = Assert.Single(delivered, m => m.MsgId == result.MsgId);
            var due = start.AddMilliseconds(ms).ToMicroseconds();
            Assert.True(message.StoredAt >= due, $"+{ms} ms was delivered {(due - message.StoredAt).TotalMilliseconds} ms early");
            Assert.True(message.StoredAt - due < LatenessBound, $"+{ms} ms was {(message.StoredAt - due).TotalMilliseconds} ms late");
            Assert.Equal(result.Queue, message.Queue);
            Assert.Null(message.GetProperty(MessageConst.TimerDeliverMs));
            lateness.Add((message.StoredAt - due).TotalMilliseconds);
        }
        output.WriteLine($"timer lateness (ms): {string.Join(", ", lateness.Select(l => l.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    [Fact]
    public async Task Deliver_after_and_past_times_work_and_past_times_deliver_at_once()
    {
        var topic = await _grains.CreateTopicAsync("timer-after", 1);
        await using var producer = new Producer(_grains);
        var past = await producer.SendAsync(new Message(topic, "past") { DeliverAt = DateTimeOffset.UtcNow.AddHours(-1) });
        var pastDelivered = Assert.Single(await WaitForMessagesAsync(_grains, topic, 1, 1, Guard));
        Assert.Equal(past.MsgId, pastDelivered.MsgId);
        Assert.True(pastDelivered.StoredAt - past.StoredAt < LatenessBound, "a past time is delivered at once");

        var sentAt = DateTimeOffset.UtcNow;
        var after = await producer.SendAsync(new Message(topic, "after") { DeliverAfter = TimeSpan.FromMilliseconds(800) });
        var all = await WaitForMessagesAsync(_grains, topic, 1, 2, Guard);
        var afterDelivered = Assert.Single(all, m => m.MsgId == after.MsgId);
        Assert.True(afterDelivered.StoredAt >= sentAt.AddMilliseconds(800).ToMicroseconds().AddMilliseconds(-1));
    }

    [Fact]
    public async Task A_time_beyond_the_horizon_is_refused_by_the_broker()
    {
        var topic = await _grains.CreateTopicAsync("timer-horizon", 1);
        await using var producer = new Producer(_grains);
        var e = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(new Message(topic, "x") { DeliverAfter = TimeSpan.FromHours(25) }));
        Assert.Equal(MQErrorCode.DeliverTimeOutOfRange, e.Code);
        Assert.Contains("horizon", e.Message);
        var both = await Assert.ThrowsAsync<MQException>(() => producer.SendAsync(new Message(topic, "x") { DeliverAfter = TimeSpan.FromSeconds(1), DelayLevel = 2 }));
        Assert.Equal(MQErrorCode.InvalidArgument, both.Code);
    }

    [Fact]
    public async Task A_far_timer_waits_in_postgres_and_is_reported_pending()
    {
        var topic = await _grains.CreateTopicAsync("timer-far", 1);
        await using var producer = new Producer(_grains);
        var result = await producer.SendAsync(new Message(topic, "tomorrow") { DeliverAfter = TimeSpan.FromHours(20) });
        var timer = result.ScheduleQueue!;
        var status = await _grains.GetGrain<ITimerGrain>(timer.QueueId).GetStatus();
        Assert.True(status.Pending >= 1);
        Assert.Empty(await ReadAllAsync(_grains, topic, 1));
        await using var cmd = fixture.Database.DataSource.CreateCommand(
            "SELECT count(*) FROM omq_message WHERE topic = 'rmq_sys_wheel_timer' AND msg_id = $1");
        cmd.Parameters.AddWithValue(result.MsgId);
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
    }
}
