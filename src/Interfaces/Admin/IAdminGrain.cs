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

    /// <summary>
    /// Every consumer group the broker knows of, sorted: groups with committed offsets (written every offset flush
    /// interval), broadcasting instances' offsets or orderly-lock state, and groups with a retry or dead-letter topic.
    /// A group whose instances have only just started and committed nothing yet is not known until its first flush.
    /// </summary>
    Task<IReadOnlyList<string>> ListGroups();

    /// <summary>
    /// Where one stored message stands with each consumer group that has committed offsets on its topic (RocketMQ's
    /// message track): consumed, consumed but filtered out by the group's subscription, not consumed yet, or waiting
    /// for a group with no live instance. Broadcasting groups keep offsets per instance and are not listed.
    /// </summary>
    Task<IReadOnlyList<MessageTrack>> TrackMessage(string topic, int queueId, long offset);

    /// <summary>Per queue of every topic the group consumes (or has committed offsets on): broker offset, consumer offset, lag.</summary>
    Task<IReadOnlyList<QueueProgress>> GetGroupProgress(string group);
}
