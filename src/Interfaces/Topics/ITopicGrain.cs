namespace OrleansMQ.Topics;

/// <summary>
/// One topic (key: the topic name): its configuration and route. Queue grains do the storing; this
/// grain decides whether the topic exists.
/// </summary>
public interface ITopicGrain : IGrainWithStringKey
{
    /// <summary>Creates the topic; a deleted topic may be created again. Fails with TopicAlreadyExists if it exists.</summary>
    Task<TopicConfig> Create(TopicConfig config);

    /// <summary>The topic's config, or null when it does not exist (or was deleted).</summary>
    Task<TopicConfig?> GetConfig();

    /// <summary>
    /// The route producers and consumers use. When the topic is unknown and <paramref name="autoCreate"/>
    /// is set and the silo allows auto-creation, the topic is created with the default queue count.
    /// </summary>
    Task<TopicRoute> GetRoute(bool autoCreate);

    /// <summary>
    /// Changes a live client topic's queue count (grow only), permission, message type or retention, and returns the new
    /// config. Producers and consumers see new queues at their next route refresh.
    /// </summary>
    Task<TopicConfig> Update(TopicUpdate update);

    /// <summary>Deletes the topic, its messages and its consumer offsets. Later sends get TopicDeleted.</summary>
    Task Delete();

    /// <summary>
    /// Creates a broker-owned topic (%RETRY%…, %DLQ%…, schedule topics) with at least <paramref name="queues"/>
    /// queues, or grows one that has fewer; clients cannot create these. Returns its route.
    /// </summary>
    Task<TopicRoute> EnsureSystemTopic(int queues);

    /// <summary>Per queue: min offset, max offset, last store time.</summary>
    Task<IReadOnlyList<QueueStatus>> GetStatus();
}
