namespace OrleansMQ;

/// <summary>
/// The one exception OrleansMQ throws for anything the caller did or can act on. It crosses the grain
/// boundary intact, so a client sees the broker's code and message unchanged.
/// </summary>
[GenerateSerializer]
public sealed class MQException : Exception
{
    public MQException(MQErrorCode code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>What went wrong.</summary>
    [Id(0)]
    public MQErrorCode Code { get; private set; }

    /// <summary>Whether retrying the same call later (or on another broker) may succeed.</summary>
    public bool IsRetryable => Code is MQErrorCode.StoreConflict or MQErrorCode.StoreUnavailable or MQErrorCode.BrokerUnavailable;

    public override string ToString() => $"{Code}: {Message}";
}
