using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Serialization;
using OrleansMQ.Client;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Process;

/// <summary>
/// A client that knows its gateways by name follows the silos as their addresses change (a Kubernetes rolling update
/// replaces every pod IP): the only silo it first knew goes away, the name now points at another, and the client
/// carries on through that one. A list resolved once at connect time would leave it with no gateway.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class GatewayRefreshTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task A_client_finds_a_new_silo_by_name_after_the_only_one_it_knew_stopped()
    {
        await using var first = await SiloProcess.StartAsync(fixture.Database.ConnectionString, giveHttpPort: false, "--http-port", "0");
        await using var second = await SiloProcess.StartAsync(fixture.Database.ConnectionString, giveHttpPort: false, "--http-port", "0");
        // What a DNS name answers: the first silo only, until it is gone.
        var answer = new IPEndPoint(IPAddress.Loopback, first.GatewayPort);
        var provider = new DnsGatewayListProvider(_ => Task.FromResult<IPEndPoint[]>([Volatile.Read(ref answer)]), TimeSpan.FromSeconds(1));
        using var host = new HostBuilder()
            .UseOrleansClient(client =>
            {
                client.Services.AddSingleton<IGatewayListProvider>(provider);
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
                client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("orleansmq", "orleansmq"));
                client.Services.AddSerializer(s => s.AddAssembly(typeof(IQueueGrain).Assembly));
            })
            .Build();
        await host.StartAsync();
        var admin = new AdminClient(host.Services.GetRequiredService<IClusterClient>());
        await admin.ListTopicsAsync();

        Volatile.Write(ref answer, new IPEndPoint(IPAddress.Loopback, second.GatewayPort));
        Assert.True(await first.StopAsync(TimeSpan.FromSeconds(60)), "the first silo did not stop gracefully");

        var deadline = DateTime.UtcNow.AddSeconds(60);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await admin.ListTopicsAsync();
                last = null;
                break;
            }
            catch (MQException e) when (e.Code == MQErrorCode.BrokerUnavailable)
            {
                last = e;
                await Task.Delay(500);
            }
        }
        Assert.Null(last);
        await host.StopAsync();
    }
}
