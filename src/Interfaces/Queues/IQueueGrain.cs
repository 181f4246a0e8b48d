namespace OrleansMQ.Queues;

/// <summary>
/// One queue of a topic (key: queue id + topic name as key extension). The single writer of its
/// queue: it assigns contiguous offsets, group-commits appends to Postgres, keeps a bounded in-memory
/// tail, answers long-polls without blocking appends, and keeps each group's committed offset.
/// </summary>
public interface IQueueGrain : IGrainWithIntegerCompoundKey
{
    /// <summary>Appends messages atomically; returns only after they are committed in Postgres.</summary>
    Task<AppendResult> Append(AppendRequest request);

    /// <summary>Reads messages (long-polling when at the end) and optionally commits the group's offset.</summary>
    Task<PullResult> Pull(PullRequest request);

    /// <summary>Min offset, max offset (next to be written) and last store time.</summary>
    Task<Topics.QueueStatus> GetStatus();

    /// <summary>The group's committed offset (next to consume), or -1 when the group never committed.</summary>
    Task<long> GetCommittedOffset(string group);

    /// <summary>Commits the group's offset (clamped to the queue's range); <paramref name="flush"/> persists it before returning.</summary>
    Task<long> CommitOffset(string group, long offset, bool flush);

    /// <summary>The group's progress on this queue.</summary>
    Task<QueueProgress> GetProgress(string group);

    /// <summary>Called by the retention sweep after it removed the messages below <paramref name="minOffset"/>.</summary>
    Task OnMessagesExpired(long minOffset);

    /// <summary>Called by the topic grain when the topic is deleted: refuse further work and drop the activation.</summary>
    Task OnTopicDeleted();

    /// <summary>Called when a group is deleted: forget its committed offset here, so no later flush writes it back.</summary>
    Task ForgetGroup(string group);

    /// <summary>Called by the topic grain after an update, so the permission and message type checks use the new config.</summary>
    Task OnTopicUpdated(Topics.TopicConfig config);
}
