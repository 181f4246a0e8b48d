using System.Text;
using OrleansMQ.Messages;

namespace OrleansMQ.Validation;

/// <summary>What a message must satisfy before it is stored. Client and broker run the same checks.</summary>
public static class MessageRules
{
    /// <summary>Checks one message; throws <see cref="MQException"/> naming the rule broken.</summary>
    public static void Check(MessageData message, int maxBodyBytes = Limits.DefaultMaxBodyBytes)
    {
        if (message.Body is null || message.Body.Length == 0)
        {
            throw new MQException(MQErrorCode.EmptyBody, "message body is empty; a message must carry at least one byte");
        }
        if (message.Body.Length > maxBodyBytes)
        {
            throw new MQException(MQErrorCode.BodyTooLarge, $"message body is {message.Body.Length} bytes; the maximum is {maxBodyBytes} bytes");
        }
        CheckTag(message.Tag);
        CheckKeys(message.Keys);
        CheckProperties(message.Properties);
    }

    /// <summary>A tag is optional; when present it is one word without "||" or whitespace.</summary>
    public static void CheckTag(string? tag)
    {
        if (tag is null) return;
        if (tag.Length == 0 || tag.Length > Limits.MaxTagLength)
        {
            throw new MQException(MQErrorCode.InvalidTag, $"tag '{tag}' must be 1 to {Limits.MaxTagLength} characters");
        }
        if (tag.Contains("||", StringComparison.Ordinal))
        {
            throw new MQException(MQErrorCode.InvalidTag, $"tag '{tag}' contains '||', which separates tags in subscription expressions; a message has one tag");
        }
        if (tag.Any(char.IsWhiteSpace) || tag == "*")
        {
            throw new MQException(MQErrorCode.InvalidTag, $"tag '{tag}' contains whitespace or is '*'; a tag is one word");
        }
    }

    /// <summary>Keys are optional business keys: each non-empty, without whitespace, at most 127 characters.</summary>
    public static void CheckKeys(IReadOnlyList<string>? keys)
    {
        if (keys is null) return;
        foreach (var key in keys)
        {
            if (string.IsNullOrEmpty(key) || key.Length > Limits.MaxTagLength || key.Any(char.IsWhiteSpace))
            {
                throw new MQException(MQErrorCode.InvalidKeys, $"key '{key}' must be 1 to {Limits.MaxTagLength} characters without whitespace");
            }
        }
    }

    /// <summary>User properties: non-empty names, at most 32 KiB in all (names plus values, UTF-8).</summary>
    public static void CheckProperties(IReadOnlyDictionary<string, string>? properties)
    {
        if (properties is null) return;
        foreach (var (name, value) in properties)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new MQException(MQErrorCode.InvalidProperties, "a property name is empty");
            }
            if (value is null)
            {
                throw new MQException(MQErrorCode.InvalidProperties, $"property '{name}' has no value");
            }
        }
        var total = PropertiesSize(properties);
        if (total > Limits.MaxPropertiesBytes)
        {
            throw new MQException(MQErrorCode.InvalidProperties, $"properties take {total} bytes; the maximum is {Limits.MaxPropertiesBytes} bytes (32 KiB)");
        }
    }

    /// <summary>Bytes a message counts against batch and flow-control limits: body plus properties (UTF-8).</summary>
    public static int SizeOf(MessageData message) => message.Body.Length + PropertiesSize(message.Properties);

    /// <summary>Bytes a stored message counts against a consumer's flow-control limits, as <see cref="SizeOf(MessageData)"/>.</summary>
    public static int SizeOf(MessageExt message) => message.Body.Length + PropertiesSize(message.Properties);

    private static int PropertiesSize(IReadOnlyDictionary<string, string>? properties)
    {
        var size = 0;
        if (properties is not null)
        {
            foreach (var (k, v) in properties) size += Encoding.UTF8.GetByteCount(k) + Encoding.UTF8.GetByteCount(v);
        }
        return size;
    }
}
