using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Delay;
using OrleansMQ.Grains.Delay;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Retry;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Retry;

/// <summary>
/// A group's retry and dead letters, as RocketMQ's SendMessageProcessor.consumerSendMsgBack: a failed message
/// is scheduled on delay level <c>3 + reconsumeTimes</c> towards <c>%RETRY%&lt;group&gt;</c> with its
/// reconsumeTimes incremented; once reconsumeTimes reached maxReconsumeTimes it goes to <c>%DLQ%&lt;group&gt;</c>
/// instead. The message keeps its id, body, tag, keys, birth and properties; RETRY_TOPIC records the topic it
/// was first consumed from. Stateless: everything is in the message log.
/// </summary>
[StatelessWorker]
internal sealed partial class RetryGrain(IMessageStore messages, IMessageQueryStore queries, IDeadLetterStore resends, IOptions<BrokerOptions> options, ILogger<RetryGrain> logger)
    : Grain, IRetryGrain
{
    /// <summary>RocketMQ's retry and DLQ topics have one queue per group.</summary>
    private const int SystemTopicQueues = 1;

    private const int MaxResendBatch = 100;
    private const int MaxListed = 1000;

    private readonly BrokerOptions _options = options.Value;

    private string Group => this.GetPrimaryKeyString();

    private string RetryTopic => Names.RetryTopic(Group);

    private string DlqTopic => Names.DlqTopic(Group);

    public async Task EnsureRetryTopic()
    {
        Names.CheckGroup(Group);
        await GrainFactory.GetGrain<ITopicGrain>(RetryTopic).EnsureSystemTopic(SystemTopicQueues);
    }

    public async Task<SendBackResult> SendBack(SendBackRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Names.CheckGroup(Group);
        var message = request.Message ?? throw new MQException(MQErrorCode.InvalidArgument, "send-back needs the message");
        RetryRules.CheckMaxReconsumeTimes(request.MaxReconsumeTimes);
        if (message.ReconsumeTimes >= request.MaxReconsumeTimes || request.DelayLevel < 0)
        {
            return await SendToDeadLetter(message, $"reconsumed {message.ReconsumeTimes} time(s); maxReconsumeTimes is {request.MaxReconsumeTimes}");
        }
        var table = _options.DelayTable;
        var level = request.DelayLevel > 0 ? request.DelayLevel : table.RetryLevel(message.ReconsumeTimes);
        table.Check(level);
        await EnsureRetryTopic();

        var retried = Carry(message, message.ReconsumeTimes + 1, new Dictionary<string, string>
        {
            [MessageConst.RealTopic] = RetryTopic,
            [MessageConst.RealQueueId] = "0",
        });
        await GrainFactory.GetGrain<IDelayLevelGrain>(level).Schedule(new AppendRequest([retried]));
        return new SendBackResult(message.MsgId, RetryTopic, retried.ReconsumeTimes, DeadLettered: false, level);
    }

    public async Task<SendBackResult> SendToDeadLetter(MessageExt message, string reason)
    {
        ArgumentNullException.ThrowIfNull(message);
        Names.CheckGroup(Group);
        await GrainFactory.GetGrain<ITopicGrain>(DlqTopic).EnsureSystemTopic(SystemTopicQueues);
        var dead = Carry(message, message.ReconsumeTimes, new Dictionary<string, string>
        {
            [MessageConst.DlqReason] = string.IsNullOrWhiteSpace(reason) ? "sent to the dead-letter queue by the consumer" : reason,
        });
        await GrainFactory.GetGrain<IQueueGrain>(0, DlqTopic).Append(new AppendRequest([dead]));
        LogDeadLettered(Group, message.MsgId, RetryRules.OriginalTopic(message), message.ReconsumeTimes, reason);
        return new SendBackResult(message.MsgId, DlqTopic, message.ReconsumeTimes, DeadLettered: true, 0);
    }

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLetters(long fromOffset, int maxCount)
    {
        Names.CheckGroup(Group);
        if (maxCount is < 1 or > MaxListed)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"a list of at most {maxCount} is out of range; allowed 1 to {MaxListed} (the CLI's --max, the API's max=)");
        }
        var letters = await messages.ReadAsync(DlqTopic, 0, Math.Max(0, fromOffset), maxCount);
        var resent = await resends.LoadResentAsync(Group, [.. letters.Select(m => m.MsgId)]);
        return [.. letters.Select(m => new DeadLetter(m, resent.TryGetValue(m.MsgId, out var at) ? at : null))];
    }

    public async Task<SendBackResult> ResendMessage(string topic, int queueId, long offset)
    {
        Names.CheckGroup(Group);
        Names.CheckTopic(topic);
        var message = await queries.RequireAtAsync(topic, queueId, offset);
        await EnsureRetryTopic();
        var resentAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        await GrainFactory.GetGrain<IQueueGrain>(0, RetryTopic).Append(new AppendRequest([Carry(message, 0, new Dictionary<string, string> { [MessageConst.ResentAt] = resentAt })]));
        LogResentMessage(Group, message.MsgId, $"{topic}:{queueId}", offset);
        return new SendBackResult(message.MsgId, RetryTopic, 0, DeadLettered: false, 0);
    }

    public async Task<IReadOnlyList<SendBackResult>> ResendDeadLetters(IReadOnlyList<string>? msgIds)
    {
        Names.CheckGroup(Group);
        var wanted = msgIds is null ? null : new HashSet<string>(msgIds, StringComparer.Ordinal);
        var chosen = new List<MessageExt>();
        var found = new HashSet<string>(StringComparer.Ordinal);
        for (var offset = 0L; ;)
        {
            var page = await messages.ReadAsync(DlqTopic, 0, offset, MaxListed);
            if (page.Count == 0) break;
            offset = page[^1].QueueOffset + 1;
            var resent = wanted is null ? await resends.LoadResentAsync(Group, [.. page.Select(m => m.MsgId)]) : [];
            foreach (var letter in page)
            {
                // A message dead-lettered twice is resent once per call.
                if (wanted is not null ? wanted.Contains(letter.MsgId) && found.Add(letter.MsgId) : !resent.ContainsKey(letter.MsgId) && found.Add(letter.MsgId))
                {
                    chosen.Add(letter);
                }
            }
        }
        if (wanted is not null && wanted.FirstOrDefault(id => !found.Contains(id)) is { } missing)
        {
            throw new MQException(MQErrorCode.MessageNotFound, $"message {missing} is not in the dead-letter queue of group '{Group}' ({DlqTopic})");
        }
        if (chosen.Count == 0) return [];

        await EnsureRetryTopic();
        var resentAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var retryQueue = GrainFactory.GetGrain<IQueueGrain>(0, RetryTopic);
        var results = new List<SendBackResult>(chosen.Count);
        foreach (var batch in chosen.Chunk(MaxResendBatch))
        {
            // Back to this group only, at once and with a fresh retry budget, as the dashboard's DLQ resend.
            var data = batch.Select(m => WithoutProperty(Carry(m, 0, new Dictionary<string, string> { [MessageConst.DlqResentAt] = resentAt }), MessageConst.DlqReason)).ToList();
            await retryQueue.Append(new AppendRequest(data));
            await resends.MarkResentAsync(Group, [.. batch.Select(m => m.MsgId)]);
            results.AddRange(batch.Select(m => new SendBackResult(m.MsgId, RetryTopic, 0, DeadLettered: false, 0)));
        }
        LogResent(Group, results.Count);
        return results;
    }

    /// <summary>
    /// The message as it travels on: same id, body, tag, keys and birth; its properties plus RETRY_TOPIC (the topic it
    /// was first consumed from, set once) and <paramref name="extra"/>.
    /// </summary>
    private static MessageData Carry(MessageExt message, int reconsumeTimes, Dictionary<string, string> extra)
    {
        var properties = message.Properties is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(message.Properties, StringComparer.Ordinal);
        if (!properties.ContainsKey(MessageConst.RetryTopic) && !RetryRules.IsRetryTopic(message.Topic) && !RetryRules.IsDlqTopic(message.Topic))
        {
            properties[MessageConst.RetryTopic] = message.Topic;
            properties[MessageConst.OriginQueueOffset] = $"{message.Topic}:{message.QueueId}:{message.QueueOffset}";
        }
        foreach (var (name, value) in extra) properties[name] = value;
        return new MessageData(message.MsgId, message.Tag, message.Keys, message.Body, properties, message.BornAt, message.BornHost, message.ProducerGroup, reconsumeTimes);
    }

    private static MessageData WithoutProperty(MessageData message, string name)
    {
        if (message.Properties is null || !message.Properties.ContainsKey(name)) return message;
        var properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal);
        properties.Remove(name);
        return message with { Properties = properties };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: message {MsgId} of {Queue} offset {Offset} resent to the group by an operator")]
    private partial void LogResentMessage(string group, string msgId, string queue, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {Group}: message {MsgId} of topic {Topic} went to the dead-letter queue after {ReconsumeTimes} reconsume(s): {Reason}")]
    private partial void LogDeadLettered(string group, string msgId, string topic, int reconsumeTimes, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: {Count} dead letter(s) resent to the group")]
    private partial void LogResent(string group, int count);
}
