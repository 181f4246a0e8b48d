namespace OrleansMQ.Admin;

/// <summary>Where a message stands with one consumer group (RocketMQ's TrackType).</summary>
public enum MessageTrackType
{
    /// <summary>The group's committed offset on the queue is past the message, and its subscription takes it.</summary>
    Consumed = 0,

    /// <summary>The group's committed offset is past the message, but its live subscription filters it out.</summary>
    ConsumedButFiltered = 1,

    /// <summary>The group has live instances and has not committed past the message yet.</summary>
    NotConsumedYet = 2,

    /// <summary>The group has not committed past the message and has no live instance.</summary>
    NotOnline = 3,

    /// <summary>
    /// The copy a delayed or timer message waits as in the broker's schedule topic; no group consumes it there. Once due, the
    /// message is stored in its real topic, and that copy has the groups' tracks.
    /// </summary>
    Scheduled = 4,
}

/// <summary>One group's track of a message: its status, the group's committed offset on the message's queue, and why.</summary>
[GenerateSerializer, Immutable]
public sealed record MessageTrack(
    [property: Id(0)] string Group,
    [property: Id(1)] MessageTrackType Type,
    [property: Id(2)] long CommittedOffset,
    [property: Id(3)] string Detail);
