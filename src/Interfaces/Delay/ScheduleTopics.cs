namespace OrleansMQ.Delay;

/// <summary>
/// Where scheduled messages wait, as RocketMQ: delay-level messages on <see cref="DelayTopic"/> (queue = level − 1,
/// one FIFO per level), timer messages on <see cref="TimerTopic"/>; both carry their real topic and queue in
/// <see cref="MessageConst.RealTopic"/> / <see cref="MessageConst.RealQueueId"/>.
/// </summary>
public static class ScheduleTopics
{
    /// <summary>RocketMQ's schedule topic: one queue per delay level.</summary>
    public const string DelayTopic = "SCHEDULE_TOPIC_XXXX";

    /// <summary>RocketMQ 5's timer topic: timer messages wait here, indexed by due time.</summary>
    public const string TimerTopic = "rmq_sys_wheel_timer";

    /// <summary>Queues (and timer grains) of <see cref="TimerTopic"/>; producers spread timer messages over them.</summary>
    public const int TimerQueues = 4;

    /// <summary>Default of how far ahead a timer message may be scheduled (RocketMQ 5: timerMaxDelaySec = 3 days; the issue asks 24 h).</summary>
    public static readonly TimeSpan DefaultTimerHorizon = TimeSpan.FromHours(24);

    /// <summary>Longest timer horizon a cluster may configure.</summary>
    public static readonly TimeSpan MaxTimerHorizon = TimeSpan.FromDays(30);

    /// <summary>Whether a topic is one of the broker's schedule topics, where delayed and timer messages wait.</summary>
    public static bool IsScheduleTopic(string topic) => topic is DelayTopic or TimerTopic;

    /// <summary>The consumer group name the broker uses when it reads its own schedule queues.</summary>
    public const string ScheduleReaderGroup = "OMQ_SYS_SCHEDULE";
}
