using OrleansMQ.Queues;
using OrleansMQ.Topics;

namespace OrleansMQ.Admin;

/// <summary>
/// Cluster-wide reads for operators (topic list, group progress). Stateless: everything is derived
/// from Postgres and the topic/queue/group grains on each call.
/// </summary>
public interface IAdminGrain : IGrainWithIntegerKey
{
    /// <summary>Every live topic.</summary>
    Task<IReadOnlyList<TopicConfig>> ListTopics();

    /// <summary>Per queue of every topic the group consumes (or has committed offsets on): broker offset, consumer offset, lag.</summary>
    Task<IReadOnlyList<QueueProgress>> GetGroupProgress(string group);
}
