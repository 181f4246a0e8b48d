using OrleansMQ.Admin;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Validation;

namespace OrleansMQ.Client;

/// <summary>
/// Topic and group administration, as RocketMQ's mqadmin / DefaultMQAdminExt: thin wrappers over the topic,
/// group and admin grains that validate their arguments first, so a bad name fails here with a typed error.
/// </summary>
public sealed class AdminClient
{
    private readonly IGrainFactory _grains;

    /// <summary>An admin client calling the broker through <paramref name="grains"/>.</summary>
    public AdminClient(IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(grains);
        _grains = grains;
    }

    /// <summary>Creates a topic with <paramref name="queues"/> queues (1 to <see cref="Limits.MaxQueues"/>).</summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidArgument (queue count), TopicAlreadyExists.</exception>
    public Task<TopicConfig> CreateTopicAsync(string topic, int queues = Limits.DefaultQueues, TopicMessageType? messageType = null, CancellationToken cancellationToken = default) =>
        CreateTopicAsync(new TopicConfig(topic, queues, MessageType: messageType ?? TopicMessageType.Normal), cancellationToken);

    /// <summary>Creates a topic with a full configuration (permission, retention).</summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidArgument, TopicAlreadyExists.</exception>
    public Task<TopicConfig> CreateTopicAsync(TopicConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        Names.CheckTopic(config.Name);
        if (config.Queues is < 1 or > Limits.MaxQueues)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"a topic has 1 to {Limits.MaxQueues} queues; {config.Queues} was asked for");
        }
        if (config.RetentionHours < 1)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"retention is {config.RetentionHours} hours; it must be at least 1");
        }
        if (!Enum.IsDefined(config.MessageType) || (config.Permission & ~TopicPermission.ReadWrite) != 0)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"message type {config.MessageType} or permission {config.Permission} is not one of the defined values");
        }
        return BrokerErrors.Call(() => Topic(config.Name).Create(config), $"create topic '{config.Name}'", cancellationToken);
    }

    /// <summary>Deletes a topic with its messages and consumer offsets. Retry and dead-letter topics of a group may be deleted too.</summary>
    public Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        Names.CheckExistingTopic(topic);
        return BrokerErrors.Call(() => Topic(topic).Delete(), $"delete topic '{topic}'", cancellationToken);
    }

    /// <summary>The topic's configuration, or null when it does not exist.</summary>
    public Task<TopicConfig?> GetTopicConfigAsync(string topic, CancellationToken cancellationToken = default)
    {
        Names.CheckExistingTopic(topic);
        return BrokerErrors.Call(() => Topic(topic).GetConfig(), $"read topic '{topic}'", cancellationToken);
    }

    /// <summary>Every live topic.</summary>
    public Task<IReadOnlyList<TopicConfig>> ListTopicsAsync(CancellationToken cancellationToken = default) =>
        BrokerErrors.Call(() => Admin().ListTopics(), "list topics", cancellationToken);

    /// <summary>Per queue of the topic: min offset, max offset, last store time (mqadmin topicStatus).</summary>
    public Task<IReadOnlyList<QueueStatus>> GetTopicStatusAsync(string topic, CancellationToken cancellationToken = default)
    {
        Names.CheckExistingTopic(topic);
        return BrokerErrors.Call(() => Topic(topic).GetStatus(), $"read the status of topic '{topic}'", cancellationToken);
    }

    /// <summary>Per queue the group consumes: broker offset, consumer offset, lag (mqadmin consumerProgress).</summary>
    public Task<IReadOnlyList<QueueProgress>> GetGroupProgressAsync(string group, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        return BrokerErrors.Call(() => Admin().GetGroupProgress(group), $"read the progress of group '{group}'", cancellationToken);
    }

    /// <summary>The group's live consumer instances and their subscriptions (mqadmin consumerConnection).</summary>
    public Task<IReadOnlyList<ConsumerInstanceInfo>> GetGroupInstancesAsync(string group, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        return BrokerErrors.Call(() => _grains.GetGrain<IConsumerGroupGrain>(group).GetInstances(), $"read the instances of group '{group}'", cancellationToken);
    }

    private ITopicGrain Topic(string topic) => _grains.GetGrain<ITopicGrain>(topic);

    private IAdminGrain Admin() => _grains.GetGrain<IAdminGrain>(0);
}
