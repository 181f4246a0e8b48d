using System.Text;
using OrleansMQ.Messages;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// A stored message as the HTTP API shows it (the fields of <see cref="MessageExt"/>). <c>Body</c> is text when the
/// body is valid UTF-8 (<c>BodyEncoding</c> <c>utf-8</c>), else base64 (<c>base64</c>); <c>BodySize</c> is its length
/// in bytes and <c>BodyTruncated</c> says it is only the beginning (lists show a preview; a query by id or offset
/// shows all of it).
/// </summary>
public sealed record MessageView(
    string Topic,
    int QueueId,
    long QueueOffset,
    string MsgId,
    string? Tag,
    IReadOnlyList<string> Keys,
    string Body,
    string BodyEncoding,
    int BodySize,
    bool BodyTruncated,
    IReadOnlyDictionary<string, string> Properties,
    DateTimeOffset BornAt,
    DateTimeOffset StoredAt,
    int ReconsumeTimes,
    string? ProducerGroup,
    string? BornHost)
{
    /// <summary>How much of a body a list shows.</summary>
    public const int PreviewBytes = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The view of <paramref name="message"/>, its body cut to <paramref name="maxBodyBytes"/> when given.</summary>
    public static MessageView Of(MessageExt message, int? maxBodyBytes = null)
    {
        var body = message.Body;
        var truncated = maxBodyBytes is { } max && body.Length > max;
        var shown = truncated ? body.AsSpan(0, maxBodyBytes!.Value) : body;
        var (text, encoding) = Decode(shown, truncated);
        return new MessageView(
            message.Topic, message.QueueId, message.QueueOffset, message.MsgId, message.Tag, message.Keys, text, encoding,
            body.Length, truncated, message.Properties ?? new Dictionary<string, string>(), message.BornAt, message.StoredAt,
            message.ReconsumeTimes, message.ProducerGroup, message.BornHost);
    }

    private static (string Text, string Encoding) Decode(ReadOnlySpan<byte> body, bool truncated)
    {
        // A cut may split a multi-byte character: drop at most 3 trailing bytes before deciding it is not text.
        for (var drop = 0; drop <= Math.Min(truncated ? 3 : 0, body.Length); drop++)
        {
            try
            {
                return (StrictUtf8.GetString(body[..^drop]), "utf-8");
            }
            catch (DecoderFallbackException)
            {
            }
        }
        return (Convert.ToBase64String(body), "base64");
    }
}

/// <summary><c>POST /api/topics</c>: a topic to create (RocketMQ's updateTopic).</summary>
public sealed record CreateTopicRequest(string? Name, int? Queues, string? MessageType, string? Permission, int? RetentionHours);

/// <summary><c>PATCH /api/topics/{topic}</c>: the settings to change; a missing one stays as it is. Queues only grow.</summary>
public sealed record UpdateTopicRequest(int? Queues, string? MessageType, string? Permission, int? RetentionHours);

/// <summary><c>POST /api/messages/resend</c>: deliver the stored message at a queue offset again to one group.</summary>
public sealed record ResendMessageRequest(string? Group, string? Topic, int? QueueId, long? QueueOffset);

/// <summary>
/// <c>POST /api/messages</c>: a test message (the dashboard's "send message"); the body is UTF-8 text. At most one of
/// <c>DelayLevel</c> and <c>DeliverAt</c> (a timer message).
/// </summary>
public sealed record SendMessageRequest(
    string? Topic,
    string? Body,
    string? Tag,
    IReadOnlyList<string>? Keys,
    IReadOnlyDictionary<string, string>? Properties,
    int? DelayLevel,
    string? MessageGroup,
    DateTimeOffset? DeliverAt = null);

/// <summary><c>POST /api/groups/{group}/reset-offset</c>: move the group's offsets on a topic to a time (backtracking).</summary>
public sealed record ResetOffsetRequest(string? Topic, DateTimeOffset? Time);

/// <summary><c>POST /api/groups/{group}/dlq/resend</c>: the dead letters with these ids, or every one not resent yet with <c>all: true</c>.</summary>
public sealed record ResendRequest(IReadOnlyList<string>? MsgIds, bool? All);
