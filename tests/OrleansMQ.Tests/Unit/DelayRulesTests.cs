using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Grains.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Retry;

namespace OrleansMQ.Tests.Unit;

/// <summary>The delay table, the reserved property names, the client's schedule choice and the lateness window, without a broker.</summary>
public sealed class DelayRulesTests
{
    [Fact]
    public void The_default_table_is_RocketMQs_eighteen_levels()
    {
        var table = DelayLevelTable.Default;
        Assert.Equal(18, table.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), table.DelayOf(1));
        Assert.Equal(TimeSpan.FromSeconds(10), table.DelayOf(3));
        Assert.Equal(TimeSpan.FromHours(2), table.DelayOf(18));
        Assert.Equal(DelayLevelTable.DefaultText, table.ToString());
    }

    [Theory]
    [InlineData("500ms 1.5s 2m 1h 1d", new[] { 500.0, 1500, 120_000, 3_600_000, 86_400_000 })]
    [InlineData("1s,2s, 3s", new[] { 1000.0, 2000, 3000 })]
    public void A_table_is_written_with_units(string text, double[] millis)
    {
        Assert.Equal(millis.Select(TimeSpan.FromMilliseconds), DelayLevelTable.Parse(text).Delays);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1s 5")]
    [InlineData("1s -5s")]
    [InlineData("0ms")]
    [InlineData("31d")]
    [InlineData("1s x")]
    public void A_malformed_table_is_refused_naming_the_entry(string text)
    {
        var e = Assert.Throws<MQException>(() => DelayLevelTable.Parse(text));
        Assert.Equal(MQErrorCode.InvalidArgument, e.Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(-1)]
    public void A_level_outside_the_table_is_a_typed_error(int level)
    {
        var e = Assert.Throws<MQException>(() => DelayLevelTable.Default.DelayOf(level));
        Assert.Equal(MQErrorCode.InvalidDelayLevel, e.Code);
        Assert.Contains("levels 1 to 18", e.Message);
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 4)]
    [InlineData(15, 18)]
    [InlineData(16, 18)]
    [InlineData(40, 18)]
    public void Retry_uses_level_three_plus_reconsume_times_capped_at_the_last(int reconsumeTimes, int level)
    {
        Assert.Equal(level, DelayLevelTable.Default.RetryLevel(reconsumeTimes));
    }

    [Fact]
    public void Users_may_not_set_the_brokers_property_names()
    {
        var e = Assert.Throws<MQException>(() => MessageConst.CheckUserProperties(new Dictionary<string, string> { ["REAL_TOPIC"] = "x" }));
        Assert.Equal(MQErrorCode.InvalidProperties, e.Code);
        MessageConst.CheckUserProperties(new Dictionary<string, string> { ["region"] = "eu" });
    }

    [Fact]
    public void A_message_without_delay_is_sent_at_once_and_a_level_goes_to_its_schedule_queue()
    {
        Assert.Null(ScheduledSend.Of(new Message("t", "b")));
        var level = ScheduledSend.Of(new Message("t", "b") { DelayLevel = 3 });
        Assert.Equal(new MessageQueue(ScheduleTopics.DelayTopic, 2), level!.Schedule);
        var timer = ScheduledSend.Of(new Message("t", "b") { DeliverAfter = TimeSpan.FromSeconds(5) });
        Assert.Equal(ScheduleTopics.TimerTopic, timer!.Schedule.Topic);
    }

    [Fact]
    public void A_timer_due_time_is_rounded_up_to_the_millisecond_and_carries_the_destination()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123).AddTicks(5);
        var send = ScheduledSend.Of(new Message("t", "b") { DeliverAt = at })!;
        var data = new MessageData("id", null, [], [1], null, DateTimeOffset.UtcNow, null, null);
        var stamped = Assert.Single(send.Stamp([data], new MessageQueue("t", 2)));
        Assert.Equal("1700000000124", stamped.Properties![MessageConst.TimerDeliverMs]);
        Assert.Equal("t", stamped.Properties[MessageConst.RealTopic]);
        Assert.Equal("2", stamped.Properties[MessageConst.RealQueueId]);
    }

    [Theory]
    [InlineData(-1, null, null, MQErrorCode.InvalidDelayLevel)]
    [InlineData(65, null, null, MQErrorCode.InvalidDelayLevel)]
    [InlineData(2, 10.0, null, MQErrorCode.InvalidArgument)]
    [InlineData(0, 10.0, 10.0, MQErrorCode.InvalidArgument)]
    [InlineData(0, null, -1.0, MQErrorCode.DeliverTimeOutOfRange)]
    [InlineData(0, 31 * 86400.0, null, MQErrorCode.DeliverTimeOutOfRange)]
    public void Bad_schedules_are_refused_before_sending(int level, double? atSeconds, double? afterSeconds, MQErrorCode code)
    {
        var message = new Message("t", "b")
        {
            DelayLevel = level,
            DeliverAt = atSeconds is { } s ? DateTimeOffset.UtcNow.AddSeconds(s) : null,
            DeliverAfter = afterSeconds is { } a ? TimeSpan.FromSeconds(a) : null,
        };
        Assert.Equal(code, Assert.Throws<MQException>(() => ScheduledSend.Of(message)).Code);
    }

    [Fact]
    public void A_retried_message_shows_its_original_topic()
    {
        var retried = new MessageExt("%RETRY%g", 0, 7, "id", null, [], [1], new Dictionary<string, string> { [MessageConst.RetryTopic] = "orders" },
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 2, null, null);
        var shown = RetryRules.AsDelivered(retried);
        Assert.Equal("orders", shown.Topic);
        Assert.Equal(7, shown.QueueOffset);
        Assert.Equal(new MessageQueue("%RETRY%g", 0), shown.Queue);
        Assert.Equal(new MessageQueue("%RETRY%g", 0), retried.Queue);
        Assert.Equal("orders", RetryRules.OriginalTopic(retried));
    }

    [Fact]
    public void The_lateness_window_reports_quantiles_of_the_last_deliveries()
    {
        var window = new LatenessWindow(capacity: 100);
        var due = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 200; i++) window.Record(due, due.AddMilliseconds(i));
        var summary = window.Summary();
        Assert.Equal(100, summary.Samples);
        Assert.Equal(200, window.Delivered);
        Assert.Equal(TimeSpan.FromMilliseconds(150), summary.P50);
        Assert.Equal(TimeSpan.FromMilliseconds(199), summary.P99);
        Assert.Equal(TimeSpan.FromMilliseconds(200), summary.Max);
    }
}
