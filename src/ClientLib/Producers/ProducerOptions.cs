using OrleansMQ.Validation;

namespace OrleansMQ.Client;

/// <summary>Settings of a <see cref="Producer"/>; the defaults match RocketMQ's DefaultMQProducer where it has one.</summary>
public sealed class ProducerOptions
{
    /// <summary>
    /// The producer group, stored with every message. Optional for a <see cref="Producer"/>; required for a
    /// <see cref="TransactionProducer"/>, since the broker checks unresolved transactions back with any live producer of the group.
    /// </summary>
    public string? ProducerGroup { get; set; }

    /// <summary>Largest body accepted before sending. Default 4 MiB (RocketMQ's maxMessageSize); the broker's limit wins when smaller.</summary>
    public int MaxBodyBytes { get; set; } = Limits.DefaultMaxBodyBytes;

    /// <summary>How many times a failed send is retried (on another queue unless a selector chose it). Default 2, as RocketMQ.</summary>
    public int RetryTimesWhenSendFailed { get; set; } = 2;

    /// <summary>Whether sending to an unknown topic asks the broker to create it (the broker's own setting must allow it too). Default true.</summary>
    public bool AutoCreateTopics { get; set; } = true;

    /// <summary>Most messages concurrent sends to one queue are coalesced into per broker call. Default 100.</summary>
    public int MaxMessagesPerCall { get; set; } = 100;

    /// <summary>Most append calls in flight to one queue at a time; further sends wait and are coalesced. Default 2.</summary>
    public int MaxCallsInFlightPerQueue { get; set; } = 2;

    /// <summary>
    /// How long one send attempt waits for the broker before it counts as failed and is retried on another queue.
    /// Default 3 s, as RocketMQ's sendMsgTimeout. A timed-out attempt may still have been stored, so a retry can
    /// store the message twice (at-least-once).
    /// </summary>
    public TimeSpan SendMsgTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often a topic's route (its queue count) is fetched again. Default 30 s, as RocketMQ's pollNameServerInterval.</summary>
    public TimeSpan RouteRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a <see cref="TransactionProducer"/> tells its group's transaction coordinator that it is alive and can
    /// answer check-backs. Default 30 s, as RocketMQ's heartbeatBrokerInterval; the broker forgets a producer after
    /// 120 s of silence by default (its ProducerExpiry), so keep this well under that.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    internal ProducerOptions Snapshot() => (ProducerOptions)MemberwiseClone();

    internal void Validate()
    {
        if (ProducerGroup is not null)
        {
            Names.CheckGroup(ProducerGroup);
        }
        Require(MaxBodyBytes is > 0 and <= Limits.DefaultMaxBatchBytes, nameof(MaxBodyBytes), MaxBodyBytes, $"from 1 to {Limits.DefaultMaxBatchBytes}");
        Require(RetryTimesWhenSendFailed is >= 0 and <= 16, nameof(RetryTimesWhenSendFailed), RetryTimesWhenSendFailed, "from 0 to 16");
        Require(MaxMessagesPerCall is >= 1 and <= 10_000, nameof(MaxMessagesPerCall), MaxMessagesPerCall, "from 1 to 10000");
        Require(MaxCallsInFlightPerQueue is >= 1 and <= 64, nameof(MaxCallsInFlightPerQueue), MaxCallsInFlightPerQueue, "from 1 to 64");
        Require(SendMsgTimeout >= TimeSpan.FromMilliseconds(100) && SendMsgTimeout <= TimeSpan.FromMinutes(5), nameof(SendMsgTimeout), SendMsgTimeout, "from 100 ms to 5 minutes");
        Require(RouteRefreshInterval > TimeSpan.Zero, nameof(RouteRefreshInterval), RouteRefreshInterval, "positive");
        Require(HeartbeatInterval >= TimeSpan.FromMilliseconds(100) && HeartbeatInterval <= TimeSpan.FromMinutes(10), nameof(HeartbeatInterval), HeartbeatInterval, "from 100 ms to 10 minutes");
    }

    private static void Require(bool ok, string name, object value, string allowed) =>
        OptionChecks.Require(ok, nameof(ProducerOptions), name, value, allowed);
}
