using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Topics;

/// <summary>
/// One topic: decides whether it exists (creating it on first use when the silo allows), serves its
/// route, and deletes it. The config lives in omq_topic; this activation only caches it.
/// </summary>
internal sealed partial class TopicGrain(
    ITopicStore topics,
    IMessageStore messages,
    IOffsetStore offsets,
    IOptions<BrokerOptions> options,
    ILogger<TopicGrain> logger) : Grain, ITopicGrain
{
    private readonly BrokerOptions _options = options.Value;
    private TopicRecord? _record;

    private string Name => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _record = await topics.GetAsync(Name, cancellationToken);
    }

    public async Task<TopicConfig> Create(TopicConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Name != Name)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"config names topic '{config.Name}' but was sent to topic '{Name}'");
        }
        CheckName();
        // A new topic takes the values a change could set: the same queue, permission, type and retention rules.
        new TopicUpdate(config.Queues, config.Permission, config.MessageType, config.RetentionHours).CheckValues();
        if (!await topics.CreateAsync(config))
        {
            _record = await topics.GetAsync(Name);
            throw new MQException(MQErrorCode.TopicAlreadyExists, $"topic '{Name}' already exists with {_record?.Config.Queues} queues");
        }
        _record = await topics.GetAsync(Name);
        LogCreated(Name, config.Queues);
        return _record!.Config;
    }

    public Task<TopicConfig?> GetConfig() => Task.FromResult(_record is { IsDeleted: false } ? _record.Config : null);

    public async Task<TopicRoute> GetRoute(bool autoCreate)
    {
        if (autoCreate)
        {
            // A producer's route: never to a broker-owned topic (%RETRY%…, schedule topics), even one that exists.
            CheckName();
        }
        if (_record is null && autoCreate && _options.AutoCreateTopics)
        {
            CheckName();
            await topics.CreateAsync(new TopicConfig(Name, _options.DefaultTopicQueues));
            _record = await topics.GetAsync(Name);
            LogAutoCreated(Name, _record!.Config.Queues);
        }
        var config = RequireLive();
        return new TopicRoute(config.Name, config.Queues, config.Permission, config.MessageType);
    }

    public async Task<TopicRoute> EnsureSystemTopic(int queues)
    {
        Names.CheckSystemTopic(Name);
        if (Names.IsClientTopic(Name))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"topic '{Name}' is not a broker-owned topic; create it with Create");
        }
        if (queues is < 1 or > Limits.MaxQueues)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"queue count {queues} is out of range; allowed 1 to {Limits.MaxQueues}");
        }
        if (_record is not { IsDeleted: false } || _record.Config.Queues < queues)
        {
            await topics.EnsureAsync(new TopicConfig(Name, queues));
            _record = await topics.GetAsync(Name);
            LogSystemTopicEnsured(Name, _record!.Config.Queues);
        }
        var config = RequireLive();
        return new TopicRoute(config.Name, config.Queues, config.Permission, config.MessageType);
    }

    public async Task<TopicConfig> Update(TopicUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        CheckName();
        update.CheckValues();
        var current = RequireLive();
        if (update.Queues < current.Queues)
        {
            throw new MQException(MQErrorCode.InvalidArgument,
                $"topic '{Name}' has {current.Queues} queues and cannot shrink to {update.Queues}: its queues hold messages and consumer offsets");
        }
        var updated = current with
        {
            Queues = update.Queues ?? current.Queues,
            Permission = update.Permission ?? current.Permission,
            MessageType = update.MessageType ?? current.MessageType,
            RetentionHours = update.RetentionHours ?? current.RetentionHours,
        };
        if (!await topics.UpdateAsync(updated))
        {
            // Changed behind this activation (deleted, or grown by hand): report what is stored now.
            _record = await topics.GetAsync(Name);
            var stored = RequireLive();
            throw new MQException(MQErrorCode.InvalidArgument, $"topic '{Name}' now has {stored.Queues} queues; it was not updated");
        }
        _record = await topics.GetAsync(Name);
        var config = RequireLive();
        // The queues that existed before cache the config for their permission and message type checks; new ones read it on activation.
        await Task.WhenAll(Enumerable.Range(0, current.Queues).Select(q => GrainFactory.GetGrain<IQueueGrain>(q, Name).OnTopicUpdated(config)));
        LogUpdated(Name, config.Queues, config.Permission, config.MessageType, config.RetentionHours);
        return config;
    }

    public async Task Delete()
    {
        var config = RequireLive();
        await topics.MarkDeletedAsync(Name);
        _record = await topics.GetAsync(Name);
        await Task.WhenAll(Enumerable.Range(0, config.Queues).Select(q => GrainFactory.GetGrain<IQueueGrain>(q, Name).OnTopicDeleted()));
        await messages.DeleteTopicAsync(Name);
        await offsets.DeleteTopicAsync(Name);
        LogDeleted(Name);
    }

    public async Task<IReadOnlyList<QueueStatus>> GetStatus()
    {
        var config = RequireLive();
        return await Task.WhenAll(Enumerable.Range(0, config.Queues).Select(q => GrainFactory.GetGrain<IQueueGrain>(q, Name).GetStatus()));
    }

    /// <summary>Clients may not create system topics (%RETRY%…, %DLQ%…); the broker creates those itself.</summary>
    private void CheckName() => Names.CheckTopic(Name);

    private TopicConfig RequireLive() => TopicRecord.RequireLive(_record, Name,
        _options.AutoCreateTopics ? "" : " (auto-creation is off on this broker: create it with 'orleansmq topic create')");

    [LoggerMessage(Level = LogLevel.Information, Message = "Topic {Topic} created with {Queues} queues")]
    private partial void LogCreated(string topic, int queues);

    [LoggerMessage(Level = LogLevel.Information, Message = "Topic {Topic} auto-created with {Queues} queues")]
    private partial void LogAutoCreated(string topic, int queues);

    [LoggerMessage(Level = LogLevel.Information, Message = "Broker topic {Topic} ready with {Queues} queues")]
    private partial void LogSystemTopicEnsured(string topic, int queues);

    [LoggerMessage(Level = LogLevel.Information, Message = "Topic {Topic} updated: {Queues} queues, permission {Permission}, type {MessageType}, retention {RetentionHours} h")]
    private partial void LogUpdated(string topic, int queues, TopicPermission permission, TopicMessageType messageType, int retentionHours);

    [LoggerMessage(Level = LogLevel.Information, Message = "Topic {Topic} deleted with its messages and offsets")]
    private partial void LogDeleted(string topic);
}
