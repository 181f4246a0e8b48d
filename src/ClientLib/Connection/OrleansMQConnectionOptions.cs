namespace OrleansMQ.Client;

/// <summary>Where and how <see cref="OrleansMQConnection"/> reaches the broker.</summary>
public sealed class OrleansMQConnectionOptions
{
    /// <summary>The gateway of a silo started with the defaults on this machine.</summary>
    public const string DefaultGateways = "127.0.0.1:30000";

    /// <summary>The cluster and service id the silo uses by default.</summary>
    public const string DefaultClusterId = "orleansmq";

    /// <summary>
    /// Silo gateways, comma-separated <c>host:port</c> entries. Default <c>127.0.0.1:30000</c>. Host names are resolved at
    /// connect and again on every gateway-list refresh (one minute), so a name that follows the silos (a Kubernetes
    /// headless Service) keeps a long-lived connection pointed at the live ones.
    /// </summary>
    public string Gateways { get; set; } = DefaultGateways;

    /// <summary>The Orleans cluster id; must match the silo's. Default <c>orleansmq</c>.</summary>
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>The Orleans service id; must match the silo's. Default <c>orleansmq</c>.</summary>
    public string ServiceId { get; set; } = DefaultClusterId;

    /// <summary>How long <see cref="OrleansMQConnection.ConnectAsync(OrleansMQConnectionOptions, Microsoft.Extensions.Logging.ILoggerFactory?, CancellationToken)"/> keeps trying before it gives up. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            throw new MQException(MQErrorCode.InvalidArgument, "ClusterId and ServiceId must be set (the silo uses 'orleansmq' for both by default)");
        }
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"ConnectTimeout is {ConnectTimeout}; it must be positive");
        }
    }
}
