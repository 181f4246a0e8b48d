using OrleansMQ.Admin;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Queries;
using OrleansMQ.Delay;
using OrleansMQ.Retry;
using OrleansMQ.Queues;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
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

    /// <summary>
    /// The silos of the cluster (mqadmin clusterList), active ones first; with <paramref name="includeDead"/> also those
    /// that left or died, as long as the membership table keeps them.
    /// </summary>
    public Task<IReadOnlyList<SiloInfo>> ListSilosAsync(bool includeDead = false, CancellationToken cancellationToken = default) =>
        BrokerErrors.Call(async () =>
        {
            var management = _grains.GetGrain<IManagementGrain>(0);
            var hosts = await management.GetDetailedHosts(onlyActive: !includeDead).ConfigureAwait(false);
            var active = hosts.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloAddress).ToArray();
            var statistics = new Dictionary<SiloAddress, SiloRuntimeStatistics>();
            try
            {
                var values = await management.GetRuntimeStatistics(active).ConfigureAwait(false);
                for (var i = 0; i < active.Length && i < values.Length; i++) statistics[active[i]] = values[i];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Statistics are a nicety: a silo that just died must not take the membership view down with it.
            }
            return (IReadOnlyList<SiloInfo>)[.. hosts
                .OrderBy(h => h.Status == SiloStatus.Active ? 0 : 1).ThenBy(h => h.SiloAddress.ToString(), StringComparer.Ordinal)
                .Select(h =>
                {
                    statistics.TryGetValue(h.SiloAddress, out var s);
                    return new SiloInfo(
                        h.SiloAddress.ToString(),
                        h.SiloAddress.Endpoint.ToString(),
                        h.SiloName,
                        h.HostName,
                        h.Status.ToString(),
                        h.ProxyPort > 0 ? $"{h.SiloAddress.Endpoint.Address}:{h.ProxyPort}" : null,
                        ToUtc(h.StartTime),
                        ToUtc(h.IAmAliveTime),
                        s?.ActivationCount,
                        s?.ClientCount,
                        s?.EnvironmentStatistics.FilteredCpuUsagePercentage,
                        s?.EnvironmentStatistics.FilteredMemoryUsageBytes,
                        s?.IsOverloaded);
                })];
        }, "list the silos of the cluster", cancellationToken);

    private static DateTimeOffset? ToUtc(DateTime time) =>
        time == default ? null : new DateTimeOffset(DateTime.SpecifyKind(time, time.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : time.Kind)).ToUniversalTime();

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

    /// <summary>
    /// Changes a topic's queue count (it may only grow), permission, message type or retention (mqadmin updateTopic and
    /// updateTopicPerm); settings left null stay as they are. Producers and consumers see new queues at their next route
    /// refresh (<see cref="ProducerOptions.RouteRefreshInterval"/>, <see cref="ConsumerOptions.RebalanceInterval"/>).
    /// </summary>
    /// <returns>The topic's configuration after the update.</returns>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidArgument (a bad value, or fewer queues than the topic has), TopicNotFound, TopicDeleted.</exception>
    public Task<TopicConfig> UpdateTopicAsync(string topic, TopicUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        Names.CheckTopic(topic);
        update.CheckValues();
        return BrokerErrors.Call(() => Topic(topic).Update(update), $"update topic '{topic}'", cancellationToken);
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
        Names.CheckReadableTopic(topic);
        return BrokerErrors.Call(() => Topic(topic).GetConfig(), $"read topic '{topic}'", cancellationToken);
    }

    /// <summary>Every live topic.</summary>
    public Task<IReadOnlyList<TopicConfig>> ListTopicsAsync(CancellationToken cancellationToken = default) =>
        BrokerErrors.Call(() => Admin().ListTopics(), "list topics", cancellationToken);

    /// <summary>Per queue of the topic: min offset, max offset, last store time (mqadmin topicStatus).</summary>
    public Task<IReadOnlyList<QueueStatus>> GetTopicStatusAsync(string topic, CancellationToken cancellationToken = default)
    {
        Names.CheckReadableTopic(topic);
        return BrokerErrors.Call(() => Topic(topic).GetStatus(), $"read the status of topic '{topic}'", cancellationToken);
    }

    /// <summary>Every consumer group the broker knows of (committed offsets, broadcasting offsets, lock state, retry or dead-letter topic), sorted.</summary>
    public Task<IReadOnlyList<string>> ListGroupsAsync(CancellationToken cancellationToken = default) =>
        BrokerErrors.Call(() => Admin().ListGroups(), "list consumer groups", cancellationToken);

    /// <summary>
    /// Every known group with its live instances, topics and total lag (mqadmin consumerProgress without a group).
    /// A group the broker cannot describe (a name from older data, say) comes back with its error and does not hide the others.
    /// </summary>
    public async Task<IReadOnlyList<GroupSummary>> ListGroupSummariesAsync(CancellationToken cancellationToken = default)
    {
        var names = await ListGroupsAsync(cancellationToken).ConfigureAwait(false);
        return await Task.WhenAll(names.Select(async group =>
        {
            try
            {
                var progress = GetGroupProgressAsync(group, cancellationToken);
                var instances = await GetGroupInstancesAsync(group, cancellationToken).ConfigureAwait(false);
                var queues = await progress.ConfigureAwait(false);
                return new GroupSummary(group, instances.Count, instances.Select(i => (MessageModel?)i.MessageModel).FirstOrDefault(),
                    instances.Any(i => i.Orderly), [.. queues.Select(q => q.Topic).Distinct()], queues.Sum(q => q.Lag));
            }
            catch (MQException e)
            {
                return new GroupSummary(group, 0, null, false, [], 0, e);
            }
        })).ConfigureAwait(false);
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

    /// <summary>
    /// Deletes a consumer group (mqadmin deleteSubGroup): its committed offsets on every topic, its broadcasting
    /// instances' offsets, its retry topic and, unless <paramref name="keepDeadLetters"/>, its dead-letter topic. The
    /// group must have no live instance. A consumer that starts later with that name is a new group (ConsumeFromWhere
    /// applies again).
    /// </summary>
    /// <exception cref="MQException">InvalidGroupName / ReservedName, ConsumerGroupActive.</exception>
    public Task<GroupDeletion> DeleteGroupAsync(string group, bool keepDeadLetters = false, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        return BrokerErrors.Call(() => _grains.GetGrain<IConsumerGroupGrain>(group).Delete(keepDeadLetters), $"delete group '{group}'", cancellationToken);
    }

    /// <summary>Every stored copy of the message with this id, oldest first (mqadmin queryMsgById).</summary>
    /// <exception cref="MQException">InvalidArgument (empty id or max results out of range).</exception>
    public Task<IReadOnlyList<MessageExt>> QueryMessageByIdAsync(string msgId, int maxResults = 32, CancellationToken cancellationToken = default)
    {
        QueryRules.CheckMsgId(msgId);
        QueryRules.CheckMaxResults(maxResults);
        return BrokerErrors.Call(() => Query().QueryById(msgId, maxResults), $"query message id '{msgId}'", cancellationToken);
    }

    /// <summary>Messages of a topic carrying <paramref name="key"/>, stored in [from, to), oldest first (mqadmin queryMsgByKey).</summary>
    /// <exception cref="MQException">InvalidTopicName, InvalidKeys, InvalidArgument (empty range, max results), TopicNotFound, TopicDeleted.</exception>
    public Task<IReadOnlyList<MessageExt>> QueryMessageByKeyAsync(
        string topic, string key, DateTimeOffset from, DateTimeOffset to, int maxResults = 64, CancellationToken cancellationToken = default)
    {
        Names.CheckReadableTopic(topic);
        QueryRules.CheckKey(key);
        QueryRules.CheckRange(from, to);
        QueryRules.CheckMaxResults(maxResults);
        return BrokerErrors.Call(() => Query().QueryByKey(topic, key, from, to, maxResults), $"query key '{key}' on topic '{topic}'", cancellationToken);
    }

    /// <summary>
    /// Where the message at one queue offset stands with each consumer group that has committed offsets on its topic
    /// (RocketMQ's message track): consumed, consumed but filtered, not consumed yet, or not online.
    /// </summary>
    /// <exception cref="MQException">MessageNotFound, QueueNotFound, TopicNotFound, TopicDeleted.</exception>
    public Task<IReadOnlyList<MessageTrack>> TrackMessageAsync(string topic, int queueId, long offset, CancellationToken cancellationToken = default)
    {
        Names.CheckReadableTopic(topic);
        return BrokerErrors.Call(() => Admin().TrackMessage(topic, queueId, offset), $"track the message at {topic}:{queueId} offset {offset}", cancellationToken);
    }

    /// <summary>
    /// Delivers the message at one queue offset again to <paramref name="group"/> only (the dashboard's resend from the
    /// message track): through the group's retry topic, at once, with its id, body and properties. A clustering push
    /// consumer of the group receives it as a retry (ReconsumeTimes 0).
    /// </summary>
    /// <exception cref="MQException">InvalidGroupName, InvalidTopicName / ReservedName, MessageNotFound.</exception>
    public Task<SendBackResult> ResendMessageAsync(string group, string topic, int queueId, long offset, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        Names.CheckTopic(topic);
        return BrokerErrors.Call(() => _grains.GetGrain<IRetryGrain>(group).ResendMessage(topic, queueId, offset), $"resend {topic}:{queueId} offset {offset} to group '{group}'", cancellationToken);
    }

    /// <summary>The message at one queue offset (mqadmin queryMsgByOffset).</summary>
    /// <exception cref="MQException">MessageNotFound when nothing is stored there (never written, or removed by retention); QueueNotFound, TopicNotFound.</exception>
    public async Task<MessageExt> QueryMessageByOffsetAsync(string topic, int queueId, long offset, CancellationToken cancellationToken = default)
    {
        Names.CheckReadableTopic(topic);
        var message = await BrokerErrors.Call(() => Query().QueryByOffset(topic, queueId, offset), $"read {topic}:{queueId} at offset {offset}", cancellationToken)
            .ConfigureAwait(false);
        return message ?? throw new MQException(MQErrorCode.MessageNotFound, $"no message is stored at {topic}:{queueId} offset {offset} (not written yet, or removed by retention)");
    }

    /// <summary>
    /// Message backtracking (mqadmin resetOffsetByTime): moves the group's committed offset on every queue of the topic
    /// to the first message stored at or after <paramref name="time"/>, backwards or forwards. The group must have no
    /// live push-consumer instance (stop them first, as Kafka requires): a running instance would overwrite the reset
    /// with its own position on its next pull.
    /// </summary>
    /// <returns>Per queue: the offset before and after.</returns>
    /// <exception cref="MQException">ConsumerGroupActive when instances are live; InvalidGroupName, TopicNotFound, TopicDeleted.</exception>
    public async Task<IReadOnlyList<OffsetReset>> ResetOffsetsByTimeAsync(string group, string topic, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        Names.CheckExistingTopic(topic);
        var instances = await GetGroupInstancesAsync(group, cancellationToken).ConfigureAwait(false);
        if (instances.Count > 0)
        {
            throw new MQException(MQErrorCode.ConsumerGroupActive,
                $"group '{group}' has {instances.Count} live instance(s) ({string.Join(", ", instances.Select(i => i.ClientId))}); stop them before resetting its offsets");
        }
        var route = await BrokerErrors.Call(() => Topic(topic).GetRoute(false), $"read the route of topic '{topic}'", cancellationToken).ConfigureAwait(false);
        var resets = new List<OffsetReset>(route.Queues);
        for (var queueId = 0; queueId < route.Queues; queueId++)
        {
            var queue = new MessageQueue(topic, queueId);
            var target = await BrokerErrors.Call(() => Query().SearchOffset(topic, queue.QueueId, time), $"search {queue} for {time:O}", cancellationToken)
                .ConfigureAwait(false);
            var grain = _grains.GetGrain<IQueueGrain>(queue.QueueId, topic);
            var before = await BrokerErrors.Call(() => grain.GetCommittedOffset(group), $"read the offset of group '{group}' on {queue}", cancellationToken)
                .ConfigureAwait(false);
            var after = await BrokerErrors.Call(() => grain.CommitOffset(group, target, flush: true), $"reset the offset of group '{group}' on {queue}", cancellationToken)
                .ConfigureAwait(false);
            resets.Add(new OffsetReset(queue, before, after));
        }
        return resets;
    }

    private IMessageQueryGrain Query() => _grains.GetGrain<IMessageQueryGrain>(0);

    /// <summary>The cluster's delay levels (level n delays by the n-th entry).</summary>
    public Task<DelayLevelTable> GetDelayTableAsync(CancellationToken cancellationToken = default) =>
        BrokerErrors.Call(() => _grains.GetGrain<IScheduleServiceGrain>(0).GetDelayTable(), "read the delay table", cancellationToken);

    /// <summary>Every delay level, then every timer queue: pending messages, next due time, lateness of the last deliveries.</summary>
    public Task<IReadOnlyList<ScheduleStatus>> GetScheduleStatusAsync(CancellationToken cancellationToken = default) =>
        BrokerErrors.Call(() => _grains.GetGrain<IScheduleServiceGrain>(0).GetStatus(), "read the delay status", cancellationToken);

    /// <summary>Messages in the group's dead-letter queue (<c>%DLQ%&lt;group&gt;</c>) from <paramref name="fromOffset"/> on, oldest first, at most <paramref name="maxCount"/> (1 to 1000).</summary>
    public Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string group, long fromOffset = 0, int maxCount = 100, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        return BrokerErrors.Call(() => _grains.GetGrain<IRetryGrain>(group).ListDeadLetters(fromOffset, maxCount), $"list the dead letters of group '{group}'", cancellationToken);
    }

    /// <summary>
    /// Puts dead letters back to the group (delivered again at once, with a fresh retry budget): the messages with
    /// <paramref name="msgIds"/>, or with null every dead letter not resent before.
    /// </summary>
    /// <exception cref="MQException">MessageNotFound for an id that is not in the group's dead-letter queue.</exception>
    public Task<IReadOnlyList<SendBackResult>> ResendDeadLettersAsync(string group, IReadOnlyList<string>? msgIds, CancellationToken cancellationToken = default)
    {
        Names.CheckGroup(group);
        if (msgIds is { Count: 0 })
        {
            throw new MQException(MQErrorCode.InvalidArgument, "give at least one message id, or null for every dead letter not resent yet");
        }
        return BrokerErrors.Call(() => _grains.GetGrain<IRetryGrain>(group).ResendDeadLetters(msgIds), $"resend the dead letters of group '{group}'", cancellationToken);
    }

    /// <summary>
    /// Half messages, newest first (at most <paramref name="maxCount"/>, 1 to 1000): of one producer group or all, in one
    /// state or all. Pending ones are waiting for their commit, rollback or next check-back; discarded ones were given up on.
    /// </summary>
    public Task<IReadOnlyList<HalfMessageInfo>> ListTransactionsAsync(string? group = null, TransactionState? state = null, int maxCount = 100, CancellationToken cancellationToken = default)
    {
        if (group is not null) Names.CheckGroup(group);
        return BrokerErrors.Call(() => _grains.GetGrain<ITransactionAdminGrain>(0).ListTransactions(group, state, maxCount), "list transactions", cancellationToken);
    }

    /// <summary>
    /// Resolves a pending transaction by hand, as an operator: <see cref="LocalTransactionState.Commit"/> makes its message
    /// visible (once), <see cref="LocalTransactionState.Rollback"/> discards it. Resolving it again the same way is harmless.
    /// </summary>
    /// <exception cref="MQException">TransactionNotFound; TransactionAlreadyResolved when it was resolved the other way.</exception>
    public Task<EndTransactionResult> EndTransactionAsync(string group, string transactionId, LocalTransactionState state, CancellationToken cancellationToken = default)
    {
        TransactionRules.CheckProducerGroup(group);
        if (string.IsNullOrWhiteSpace(transactionId))
        {
            throw new MQException(MQErrorCode.InvalidArgument, "give the transaction id (orleansmq transaction list shows them)");
        }
        if (state == LocalTransactionState.Unknown || !Enum.IsDefined(state))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"an operator commits or rolls back a transaction; {state} is neither");
        }
        return BrokerErrors.Call(
            () => _grains.GetGrain<ITransactionCoordinatorGrain>(group).EndTransaction(new EndTransactionRequest(transactionId, state, TransactionResolver.Operator)),
            $"{(state == LocalTransactionState.Commit ? "commit" : "roll back")} transaction {transactionId} of producer group '{group}'", cancellationToken);
    }

    private ITopicGrain Topic(string topic) => _grains.GetGrain<ITopicGrain>(topic);

    private IAdminGrain Admin() => _grains.GetGrain<IAdminGrain>(0);
}

/// <summary>One queue's committed offset before and after a reset; <see cref="Before"/> is -1 when the group had none.</summary>
public sealed record OffsetReset(MessageQueue Queue, long Before, long After);
