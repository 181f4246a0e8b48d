using OrleansMQ.Messages;

namespace OrleansMQ.Broadcasting;

/// <summary>
/// The committed offsets of one broadcasting consumer instance (key: <c>{group}@{instanceName}</c>, see
/// <see cref="BroadcastOffsetKey"/>), RocketMQ's LocalFileOffsetStore kept in Postgres instead of a local file,
/// so an instance restarted under the same name resumes where it left off, on any machine.
/// </summary>
public interface IBroadcastOffsetGrain : IGrainWithStringKey
{
    /// <summary>The instance's committed offset on a queue (next to consume), or -1 when it never committed one.</summary>
    Task<long> GetOffset(MessageQueue queue);

    /// <summary>Commits the instance's offset on a queue; <paramref name="flush"/> persists it before returning.</summary>
    Task Commit(MessageQueue queue, long offset, bool flush);
}

/// <summary>The key of a broadcast offset grain. Group names cannot contain '@', so the first '@' separates the two.</summary>
public static class BroadcastOffsetKey
{
    /// <summary>The key of <paramref name="instanceName"/>'s offsets in <paramref name="group"/>.</summary>
    public static string Of(string group, string instanceName) => $"{group}@{instanceName}";

    /// <summary>Splits a key into group and instance name.</summary>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidArgument"/> when the key has no '@'.</exception>
    public static (string Group, string InstanceName) Parse(string key)
    {
        var at = key.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == key.Length - 1)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"'{key}' is not a broadcast offset key (group@instanceName)");
        }
        return (key[..at], key[(at + 1)..]);
    }
}
