using OrleansMQ.Validation;

namespace OrleansMQ.Queries;

/// <summary>Argument rules of the message queries, checked by the admin client and again by the broker.</summary>
public static class QueryRules
{
    /// <summary>Most rows one query returns (RocketMQ's maxNum default is 64; 32 per broker in its console).</summary>
    public const int MaxResults = 1000;

    /// <summary>Throws InvalidArgument unless <paramref name="msgId"/> is a non-empty id of sane length.</summary>
    public static void CheckMsgId(string? msgId)
    {
        if (string.IsNullOrWhiteSpace(msgId) || msgId.Trim().Length > 128)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a message id is required (at most 128 characters), as printed by send");
        }
    }

    /// <summary>Throws InvalidKeys unless <paramref name="key"/> is one key as a producer may set it.</summary>
    public static void CheckKey(string? key) => MessageRules.CheckKeys([key ?? ""]);

    /// <summary>Throws InvalidArgument unless from is before to.</summary>
    public static void CheckRange(DateTimeOffset from, DateTimeOffset to)
    {
        if (from >= to)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"the time range is empty: from {from:O} is not before to {to:O}");
        }
    }

    /// <summary>Throws InvalidArgument unless 1 ≤ maxResults ≤ <see cref="MaxResults"/>.</summary>
    public static void CheckMaxResults(int maxResults)
    {
        if (maxResults is < 1 or > MaxResults)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"max results {maxResults} is out of range; allowed 1 to {MaxResults}");
        }
    }
}
