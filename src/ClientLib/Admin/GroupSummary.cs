using OrleansMQ.ConsumerGroups;

namespace OrleansMQ.Client;

/// <summary>
/// One consumer group at a glance, as <c>group list</c> and the console's groups page show it. When the broker could
/// not describe the group, <see cref="Error"/> says why and the other fields are empty.
/// </summary>
/// <param name="Group">The group's name.</param>
/// <param name="Instances">Its live instances.</param>
/// <param name="MessageModel">Its live instances' message model; null without one.</param>
/// <param name="Orderly">Whether a live instance consumes orderly.</param>
/// <param name="Topics">The topics it consumes or has committed offsets on.</param>
/// <param name="TotalLag">Messages stored but not yet consumed by it, over all those topics.</param>
/// <param name="Error">Why the group could not be described, or null.</param>
public sealed record GroupSummary(
    string Group,
    int Instances,
    MessageModel? MessageModel,
    bool Orderly,
    IReadOnlyList<string> Topics,
    long TotalLag,
    MQException? Error = null);
