using OrleansMQ.Filtering;
using OrleansMQ.Messages;

namespace OrleansMQ.Queues;

/// <summary>Messages appended together: one commit, contiguous offsets, all or nothing.</summary>
[GenerateSerializer, Immutable]
public sealed record AppendRequest([property: Id(0)] IReadOnlyList<MessageData> Messages);

/// <summary>Where an append landed: message i got offset <c>FirstOffset + i</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record AppendResult(
    [property: Id(0)] long FirstOffset,
    [property: Id(1)] DateTimeOffset StoredAt);

/// <summary>
/// One pull, as RocketMQ's PullMessageRequest: read from <see cref="QueueOffset"/>, optionally commit
/// <see cref="CommitOffset"/> for the group in the same call, and wait up to <see cref="SuspendTimeout"/>
/// for new messages when none are there (long-poll). <see cref="TagExpression"/> is the subscription's filter in the
/// language <see cref="ExpressionType"/> names (RocketMQ's subscription string and expressionType): a tag expression by
/// default, so callers that only know tags are unchanged.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PullRequest(
    [property: Id(0)] string Group,
    [property: Id(1)] long QueueOffset,
    [property: Id(2)] int MaxMessages = 32,
    [property: Id(3)] string? TagExpression = null,
    [property: Id(4)] long CommitOffset = -1,
    [property: Id(5)] TimeSpan SuspendTimeout = default,
    [property: Id(6)] int MaxBytes = 4 * 1024 * 1024,
    [property: Id(7)] ExpressionType ExpressionType = ExpressionType.Tag);

/// <summary>Outcome of a pull, as RocketMQ's PullStatus.</summary>
public enum PullStatus
{
    /// <summary>Messages were found (some may have been filtered out).</summary>
    Found = 0,
    /// <summary>Nothing new: the offset is at the end of the queue.</summary>
    NoNewMessage = 1,
    /// <summary>Messages were there but none matched the filter; the offset still advances.</summary>
    NoMatchedMessage = 2,
    /// <summary>The offset was outside the queue; <see cref="PullResult.NextBeginOffset"/> is the corrected one.</summary>
    OffsetIllegal = 3,
}

/// <summary>What a pull returned and where the next one should start.</summary>
[GenerateSerializer, Immutable]
public sealed record PullResult(
    [property: Id(0)] PullStatus Status,
    [property: Id(1)] IReadOnlyList<MessageExt> Messages,
    [property: Id(2)] long NextBeginOffset,
    [property: Id(3)] long MinOffset,
    [property: Id(4)] long MaxOffset);

/// <summary>A group's position on one queue (mqadmin consumerProgress).</summary>
[GenerateSerializer, Immutable]
public sealed record QueueProgress(
    [property: Id(0)] string Topic,
    [property: Id(1)] int QueueId,
    [property: Id(2)] long BrokerOffset,
    [property: Id(3)] long ConsumerOffset,
    [property: Id(4)] DateTimeOffset? LastStoredAt)
{
    /// <summary>Messages stored but not yet consumed by the group.</summary>
    public long Lag => ConsumerOffset < 0 ? BrokerOffset : Math.Max(0, BrokerOffset - ConsumerOffset);
}
