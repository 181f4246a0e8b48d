using System.Net;
using OrleansMQ.Client;

namespace OrleansMQ.Tests.Client;

/// <summary>The client's gateway list is resolved again on every refresh, and keeps the last good answer through a failed one.</summary>
public sealed class UnitDnsGatewayListProviderTests
{
    [Fact]
    public async Task Every_refresh_resolves_the_names_again()
    {
        var answers = new Queue<IPEndPoint[]>([[Endpoint("10.0.0.1")], [Endpoint("10.0.0.2"), Endpoint("10.0.0.3")]]);
        var provider = new DnsGatewayListProvider(_ => Task.FromResult(answers.Dequeue()), TimeSpan.FromSeconds(7));

        var first = await provider.GetGateways();
        var second = await provider.GetGateways();

        Assert.True(provider.IsUpdatable);
        Assert.Equal(TimeSpan.FromSeconds(7), provider.MaxStaleness);
        Assert.Equal(["gwy.tcp://10.0.0.1:30000/0"], first.Select(u => u.ToString()));
        Assert.Equal(["gwy.tcp://10.0.0.2:30000/0", "gwy.tcp://10.0.0.3:30000/0"], second.Select(u => u.ToString()));
    }

    [Fact]
    public async Task A_refresh_that_cannot_resolve_keeps_the_last_list_and_a_first_one_fails_typed()
    {
        var fail = false;
        var provider = new DnsGatewayListProvider(_ => fail
            ? throw new MQException(MQErrorCode.BrokerUnavailable, "cannot resolve gateway host 'x'")
            : Task.FromResult<IPEndPoint[]>([Endpoint("10.0.0.1")]), TimeSpan.FromMinutes(1));
        var never = new DnsGatewayListProvider(_ => throw new MQException(MQErrorCode.BrokerUnavailable, "cannot resolve gateway host 'x'"), TimeSpan.FromMinutes(1));

        var good = await provider.GetGateways();
        fail = true;
        var kept = await provider.GetGateways();

        Assert.Equal(good, kept);
        var e = await Assert.ThrowsAsync<MQException>(never.GetGateways);
        Assert.Equal(MQErrorCode.BrokerUnavailable, e.Code);
    }

    [Fact]
    public async Task A_host_name_resolves_through_dns()
    {
        var provider = new DnsGatewayListProvider("localhost:30000", TimeSpan.FromMinutes(1));

        var gateways = await provider.GetGateways();

        Assert.Contains("gwy.tcp://127.0.0.1:30000/0", gateways.Select(u => u.ToString()));
    }

    private static IPEndPoint Endpoint(string ip) => new(IPAddress.Parse(ip), 30000);
}
