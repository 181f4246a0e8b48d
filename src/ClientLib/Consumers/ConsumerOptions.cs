using OrleansMQ.ConsumerGroups;
using OrleansMQ.Validation;

namespace OrleansMQ.Client;

/// <summary>Settings both consumers share: who they are, where a new group starts, and how they keep their share of the queues.</summary>
public abstract class ConsumerOptions
{
    /// <summary>The consumer group; required. Instances of one group divide the subscribed queues among themselves.</summary>
    public string ConsumerGroup { get; set; } = "";

    /// <summary>Where the group starts on a queue it never committed an offset on. Default <see cref="ConsumeFromWhere.LastOffset"/>, as RocketMQ.</summary>
    public ConsumeFromWhere ConsumeFromWhere { get; set; } = ConsumeFromWhere.LastOffset;

    /// <summary>
    /// With <see cref="ConsumeFromWhere.Timestamp"/>: the moment a group new to a queue starts from. Default half an hour
    /// before the consumer was configured, as RocketMQ's consumeTimestamp.
    /// </summary>
    public DateTimeOffset ConsumeTimestamp { get; set; } = DateTimeOffset.UtcNow.AddMinutes(-30);

    /// <summary>Most messages one pull returns. Default 32, as RocketMQ.</summary>
    public int PullBatchSize { get; set; } = 32;

    /// <summary>This instance's id in the group; unique per process. Default <c>{machine}@{pid}@{random}</c>.</summary>
    public string ClientId { get; set; } = NewClientId();

    /// <summary>
    /// The instance's name, stable across restarts (RocketMQ's instanceName). A broadcasting consumer keeps its offsets
    /// under it, so a restarted instance resumes where it left off; two live broadcasting instances of one group may not
    /// share it. Default: the host name. Give each process its own (e.g. <c>$"{Environment.MachineName}-worker-2"</c>)
    /// when one host runs several broadcasting instances of a group.
    /// </summary>
    public string InstanceName { get; set; } = Environment.MachineName;

    /// <summary>How often the instance tells its group grain it is alive. Default 10 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often queues are re-divided even when the membership did not change (e.g. a topic gained queues). Default 20 s, as RocketMQ.</summary>
    public TimeSpan RebalanceInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How the group's queues are divided among its instances; every instance of a group must use the same one. Default <see cref="AllocateMessageQueueAveragely"/>.</summary>
    public IAllocateMessageQueueStrategy AllocateMessageQueueStrategy { get; set; } = AllocateMessageQueueAveragely.Instance;

    /// <summary>A fresh default client id: <c>{machine}@{pid}@{8 hex digits}</c>.</summary>
    public static string NewClientId() =>
        $"{Environment.MachineName}@{Environment.ProcessId}@{Random.Shared.Next():x8}";

    /// <summary>The message model the instance registers with.</summary>
    internal virtual MessageModel Model => MessageModel.Clustering;

    /// <summary>Whether the instance consumes orderly (holds queue locks).</summary>
    internal virtual bool Orderly => false;

    internal virtual void Validate()
    {
        Names.CheckGroup(ConsumerGroup);
        Require(Enum.IsDefined(ConsumeFromWhere), nameof(ConsumeFromWhere), ConsumeFromWhere, "LastOffset, FirstOffset or Timestamp");
        Require(PullBatchSize is >= 1 and <= 1024, nameof(PullBatchSize), PullBatchSize, "from 1 to 1024");
        Require(!string.IsNullOrWhiteSpace(ClientId) && ClientId.Length <= 255, nameof(ClientId), $"'{ClientId}'", "1 to 255 characters");
        Require(!string.IsNullOrWhiteSpace(InstanceName) && InstanceName.Length <= 255, nameof(InstanceName), $"'{InstanceName}'", "1 to 255 characters");
        Require(HeartbeatInterval >= TimeSpan.FromMilliseconds(100), nameof(HeartbeatInterval), HeartbeatInterval, "at least 100 ms");
        Require(RebalanceInterval >= TimeSpan.FromMilliseconds(100), nameof(RebalanceInterval), RebalanceInterval, "at least 100 ms");
        Require(AllocateMessageQueueStrategy is not null, nameof(AllocateMessageQueueStrategy), "null", "set");
    }

    internal void Require(bool ok, string name, object? value, string allowed) =>
        OptionChecks.Require(ok, GetType().Name, name, value ?? "null", allowed);

    internal T Snapshot<T>() where T : ConsumerOptions => (T)MemberwiseClone();
}
