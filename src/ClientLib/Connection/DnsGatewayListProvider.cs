using System.Net;
using Orleans.Messaging;

namespace OrleansMQ.Client;

/// <summary>
/// The client's gateway list: the configured <c>host:port</c> entries, resolved again on every refresh (Orleans asks
/// every <c>GatewayOptions.GatewayListRefreshPeriod</c>, one minute by default). A name such as a Kubernetes headless
/// Service thereby follows the silos as they come and go: after a rolling update has replaced every silo a client
/// first saw, it still finds the new ones, where a list resolved once at connect time would point at none.
/// </summary>
/// <remarks>When a refresh cannot resolve the names (a DNS hiccup), the last list that resolved is kept.</remarks>
internal sealed class DnsGatewayListProvider(Func<CancellationToken, Task<IPEndPoint[]>> resolve, TimeSpan refreshPeriod) : IGatewayListProvider
{
    private IList<Uri>? _last;

    /// <summary>For a gateway list as <see cref="OrleansMQConnectionOptions.Gateways"/> takes it.</summary>
    public DnsGatewayListProvider(string gateways, TimeSpan refreshPeriod)
        : this(cancellationToken => GatewayList.ResolveAsync(gateways, cancellationToken), refreshPeriod)
    {
    }

    public TimeSpan MaxStaleness => refreshPeriod;

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        try
        {
            var endpoints = await resolve(CancellationToken.None).ConfigureAwait(false);
            _last = [.. endpoints.Select(e => e.ToGatewayUri())];
        }
        catch (MQException) when (_last is not null)
        {
            // Keep the gateways that resolved last time; the next refresh tries again.
        }
        return _last ?? throw new MQException(MQErrorCode.BrokerUnavailable, "the gateway list resolves to no address");
    }
}
