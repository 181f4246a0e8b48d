using OrleansMQ.Validation;

namespace OrleansMQ.Grains;

/// <summary>Broker settings of a silo, bound from the "OrleansMQ" configuration section and validated at start-up.</summary>
public sealed class BrokerOptions
{
    public const string SectionName = "OrleansMQ";

    /// <summary>Npgsql connection string of the store (messages, offsets, topics, membership).</summary>
    public string Postgres { get; set; } = "";

    /// <summary>Create unknown topics on first send (RocketMQ's autoCreateTopicEnable). On in the dev start, off in production profiles.</summary>
    public bool AutoCreateTopics { get; set; } = true;

    /// <summary>Queue count of auto-created topics.</summary>
    public int DefaultTopicQueues { get; set; } = Limits.DefaultQueues;

    /// <summary>Largest body accepted (bytes). RocketMQ's maxMessageSize, 4 MiB.</summary>
    public int MaxBodyBytes { get; set; } = Limits.DefaultMaxBodyBytes;

    /// <summary>Largest total of one append call (bytes).</summary>
    public int MaxBatchBytes { get; set; } = Limits.DefaultMaxBatchBytes;

    /// <summary>Group commits in flight at once, silo-wide. One serial writer caps throughput at one fsync at a time.</summary>
    public int CommitConcurrency { get; set; } = 3;

    /// <summary>Most rows written by one commit.</summary>
    public int MaxRowsPerCommit { get; set; } = 2000;

    /// <summary>How often queue grains persist committed consumer offsets (RocketMQ: 5 s).</summary>
    public TimeSpan OffsetFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Messages each queue grain keeps in memory for hot reads.</summary>
    public int TailCacheMessages { get; set; } = 4096;

    /// <summary>
    /// Bytes each queue grain may keep of rows a catch-up pull read from Postgres ahead of the reader (up to 256 rows per
    /// read, two reader positions). 0 reads exactly what each pull asks for.
    /// </summary>
    public long ReadAheadBytes { get; set; } = 512 * 1024;

    /// <summary>Longest a pull may wait for new messages; stays under Orleans' 30 s call timeout.</summary>
    public TimeSpan MaxPullSuspend { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Long polling (RocketMQ's longPollingEnable, on by default): a pull at the end of a queue waits up to its suspend
    /// time and is answered the moment a message is committed. Off, pulls are short-polled: held for
    /// <see cref="ShortPollingTime"/>, not woken by new messages, then answered with what is there.
    /// </summary>
    public bool LongPollingEnabled { get; set; } = true;

    /// <summary>How long a pull at the end of a queue is held when <see cref="LongPollingEnabled"/> is off (RocketMQ's shortPollingTimeMills, 1 s).</summary>
    public TimeSpan ShortPollingTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A consumer instance that has not sent a heartbeat for this long is dropped from its group.</summary>
    public TimeSpan ConsumerExpiry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a silo looks for messages older than their topic's retention (one silo sweeps at a time).</summary>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most rows one retention delete removes; each delete is its own short statement.</summary>
    public int RetentionDeleteBatch { get; set; } = 5000;
    /// <summary>
    /// The cluster's delay levels, as RocketMQ's messageDelayLevel (level n = the n-th entry; units ms, s, m, h, d).
    /// Every silo of a cluster must use the same table.
    /// </summary>
    public string DelayLevels { get; set; } = OrleansMQ.Delay.DelayLevelTable.DefaultText;

    /// <summary>How far ahead a timer message (DeliverAt / DeliverAfter) may be due. Default 24 h, at most 30 days.</summary>
    public TimeSpan TimerHorizon { get; set; } = OrleansMQ.Delay.ScheduleTopics.DefaultTimerHorizon;

    /// <summary>
    /// How often every silo makes sure each delay level and timer schedule is running. Grain timers die with their
    /// activation; this wakes a schedule whose silo died, even if no new message arrives.
    /// </summary>
    public TimeSpan ScheduleWakeInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The parsed <see cref="DelayLevels"/>.</summary>
    internal OrleansMQ.Delay.DelayLevelTable DelayTable => _delayTable is { } cached && _delayTableText == DelayLevels
        ? cached
        : (_delayTable = OrleansMQ.Delay.DelayLevelTable.Parse(_delayTableText = DelayLevels));

    private OrleansMQ.Delay.DelayLevelTable? _delayTable;
    private string? _delayTableText;

    /// <summary>
    /// How long an orderly queue lock lasts without renewal (RocketMQ's REBALANCE_LOCK_MAX_LIVE_TIME, 60 s). Holders may
    /// consume for half of it (or <see cref="ConsumerExpiry"/> if shorter) after each renewal. A graceful handover
    /// never waits for it; a killed holder's queues move after <see cref="ConsumerExpiry"/>.
    /// </summary>
    public TimeSpan QueueLockLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long after a half message was stored it is first checked back with a producer of its group, unless it was
    /// resolved before (RocketMQ's transactionTimeout, 6 s). A message's CHECK_IMMUNITY_TIME_IN_SECONDS property overrides it.
    /// </summary>
    public TimeSpan TransactionTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>How long after a check-back an unresolved half message is checked again (RocketMQ's transactionCheckInterval, 60 s).</summary>
    public TimeSpan TransactionCheckInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How many check-backs an unresolved half message gets; at the next due check after the last it is discarded and kept
    /// on record (RocketMQ's transactionCheckMax, 15). A check with no live producer of the group counts too, as in RocketMQ.
    /// </summary>
    public int TransactionCheckMax { get; set; } = 15;

    /// <summary>
    /// A transaction producer that has not sent a heartbeat for this long is no longer asked to check transactions back
    /// (RocketMQ drops a producer channel after 120 s of silence). Producers heartbeat every 30 s by default.
    /// </summary>
    public TimeSpan ProducerExpiry { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// How long the record of a resolved transaction (committed, rolled back, discarded) is kept for <c>transaction list</c>
    /// before the retention sweep removes it. Default 72 h, as a topic's message retention. Unresolved ones are never removed.
    /// </summary>
    public TimeSpan TransactionRecordRetention { get; set; } = TimeSpan.FromHours(72);
}
