using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.ConsumerGroups;

/// <summary>
/// The live instances of one consumer group. Membership is soft state: instances heartbeat every few
/// seconds, so after a silo loss the grain re-activates elsewhere and is whole again within one
/// heartbeat interval; nothing here needs Postgres.
/// </summary>
internal sealed partial class ConsumerGroupGrain(IOptions<BrokerOptions> options, ILogger<ConsumerGroupGrain> logger) : Grain, IConsumerGroupGrain
{
    private readonly TimeSpan _expiry = options.Value.ConsumerExpiry;
    private readonly SortedDictionary<string, ConsumerInstanceInfo> _instances = new(StringComparer.Ordinal);
    private long _version;

    private string Group => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = _expiry / 3;
        this.RegisterGrainTimer(ExpireSilentInstances, new GrainTimerCreationOptions(period, period) { Interleave = true });
        return Task.CompletedTask;
    }

    public Task<GroupMembership> Heartbeat(ConsumerHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        Names.CheckGroup(Group);
        if (string.IsNullOrWhiteSpace(heartbeat.ClientId))
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a consumer heartbeat needs a client id");
        }
        if (heartbeat.Subscriptions is null)
        {
            throw new MQException(MQErrorCode.InvalidArgument, "a consumer heartbeat needs its subscriptions (an empty list is allowed)");
        }
        foreach (var subscription in heartbeat.Subscriptions)
        {
            Names.CheckSystemTopic(subscription.Topic);
            TagExpression.Parse(subscription.Expression);
        }
        ExpireSilent();
        var isNew = !_instances.TryGetValue(heartbeat.ClientId, out var previous);
        var info = new ConsumerInstanceInfo(heartbeat.ClientId, heartbeat.Host, heartbeat.Subscriptions, heartbeat.MessageModel, DateTimeOffset.UtcNow);
        _instances[heartbeat.ClientId] = info;
        if (isNew || !previous!.Subscriptions.SequenceEqual(info.Subscriptions))
        {
            _version++;
            if (isNew) LogJoined(Group, heartbeat.ClientId, _instances.Count);
        }
        return Task.FromResult(Membership());
    }

    public Task<GroupMembership> Unregister(string clientId)
    {
        if (_instances.Remove(clientId))
        {
            _version++;
            LogLeft(Group, clientId, "unregistered", _instances.Count);
        }
        return Task.FromResult(Membership());
    }

    public Task<IReadOnlyList<ConsumerInstanceInfo>> GetInstances()
    {
        ExpireSilent();
        return Task.FromResult<IReadOnlyList<ConsumerInstanceInfo>>(_instances.Values.ToList());
    }

    private Task ExpireSilentInstances(CancellationToken cancellationToken)
    {
        ExpireSilent();
        return Task.CompletedTask;
    }

    private void ExpireSilent()
    {
        var deadline = DateTimeOffset.UtcNow - _expiry;
        foreach (var silent in _instances.Values.Where(i => i.LastHeartbeat < deadline).ToList())
        {
            _instances.Remove(silent.ClientId);
            _version++;
            LogLeft(Group, silent.ClientId, "no heartbeat", _instances.Count);
        }
    }

    private GroupMembership Membership() => new(_version, _instances.Keys.ToList());

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: {ClientId} joined ({Count} live)")]
    private partial void LogJoined(string group, string clientId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: {ClientId} left, {Why} ({Count} live)")]
    private partial void LogLeft(string group, string clientId, string why, int count);
}
