using OrleansMQ.Messages;

namespace OrleansMQ.Retry;

/// <summary>
/// A consumer hands a message back to the broker (RocketMQ's consumerSendMessageBack): it failed, deliver it
/// again later to this group only. <see cref="DelayLevel"/> 0 means "by the retry rule": level 3 + reconsumeTimes.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SendBackRequest(
    [property: Id(0)] MessageExt Message,
    [property: Id(1)] int MaxReconsumeTimes = RetryRules.DefaultMaxReconsumeTimes,
    [property: Id(2)] int DelayLevel = 0);

/// <summary>Where a sent-back message went: the group's retry topic (with a delay) or its dead-letter queue.</summary>
[GenerateSerializer, Immutable]
public sealed record SendBackResult(
    [property: Id(0)] string MsgId,
    [property: Id(1)] string Topic,
    [property: Id(2)] int ReconsumeTimes,
    [property: Id(3)] bool DeadLettered,
    [property: Id(4)] int DelayLevel);

/// <summary>A message in a group's dead-letter queue, and when it was last resent (null: never).</summary>
[GenerateSerializer, Immutable]
public sealed record DeadLetter(
    [property: Id(0)] MessageExt Message,
    [property: Id(1)] DateTimeOffset? ResentAt);
