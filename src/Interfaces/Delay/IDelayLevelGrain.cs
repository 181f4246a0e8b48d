using OrleansMQ.Queues;

namespace OrleansMQ.Delay;

/// <summary>
/// One delay level (key: the level, 1-based). Stores scheduled messages on <see cref="ScheduleTopics.DelayTopic"/>
/// queue <c>level − 1</c> and moves each to its real topic and queue once its delay has passed. Every message
/// of a level has the same delay, so the schedule is a FIFO: a grain timer set to the head's due time drives it.
/// </summary>
public interface IDelayLevelGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Stores messages on this level's schedule (durable when it returns). Each carries its destination in
    /// <see cref="MessageConst.RealTopic"/> and <see cref="MessageConst.RealQueueId"/>. The result's offset is
    /// in the schedule queue.
    /// </summary>
    Task<AppendResult> Schedule(AppendRequest request);

    /// <summary>Makes sure the schedule is running (after a silo restart); idempotent and cheap.</summary>
    Task Wake();

    /// <summary>Pending count, next due time and the lateness of the last deliveries.</summary>
    Task<ScheduleStatus> GetStatus();
}

/// <summary>
/// One timer queue (key: 0 to <see cref="ScheduleTopics.TimerQueues"/> − 1) of arbitrary-time messages
/// (RocketMQ 5 timer messages). Messages wait on <see cref="ScheduleTopics.TimerTopic"/>, indexed by due time
/// in Postgres; the grain keeps the next minute of due times in memory and a grain timer set to the earliest.
/// </summary>
public interface ITimerGrain : IGrainWithIntegerKey
{
    /// <summary>Stores timer messages (each with <see cref="MessageConst.TimerDeliverMs"/> and its destination); durable when it returns.</summary>
    Task<AppendResult> Schedule(AppendRequest request);

    /// <summary>Makes sure the schedule is running (after a silo restart); idempotent and cheap.</summary>
    Task Wake();

    /// <summary>Pending count, next due time and the lateness of the last deliveries.</summary>
    Task<ScheduleStatus> GetStatus();
}

/// <summary>Cluster-wide schedule reads: the delay table, and every schedule's status. Stateless.</summary>
public interface IScheduleServiceGrain : IGrainWithIntegerKey
{
    /// <summary>The cluster's delay levels.</summary>
    Task<DelayLevelTable> GetDelayTable();

    /// <summary>Every delay level, then every timer queue.</summary>
    Task<IReadOnlyList<ScheduleStatus>> GetStatus();
}
