namespace OrleansMQ.Messages;

/// <summary>
/// Client-side message ids: globally unique and time-ordered (a version 7 UUID, 32 upper-case hex
/// digits), so ids sort roughly by birth time as RocketMQ's UNIQ_KEY does.
/// </summary>
public static class MessageIds
{
    public static string NewId() => Guid.CreateVersion7().ToString("N").ToUpperInvariant();
}
