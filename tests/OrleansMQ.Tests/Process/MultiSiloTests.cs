using System.Text.Json;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Process;

/// <summary>
/// Several silo processes started with one Postgres form one cluster (DESIGN §7), and a silo stopped gracefully
/// hands its queues to the others without losing or repeating a message.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class MultiSiloTests(SiloProcessFixture fixture)
{
    /// <summary>Orleans' SiloStatus values as ADO.NET clustering stores them.</summary>
    private const int Active = 3;
    private const int Dead = 6;

    [Fact]
    public async Task A_second_silo_joins_the_cluster_and_stopping_it_gracefully_loses_no_message_sent_through_it()
    {
        // The fixture's silo stays up for the other process tests; the silo that takes the sends is the one stopped.
        await using var second = await SiloProcess.StartAsync(fixture.Database.ConnectionString);
        var membership = await Eventually.PollAsync(fixture.ReadMembershipAsync,
            rows => rows.Count(r => r.Status == Active) == 2, TimeSpan.FromSeconds(30), "both silos to be active in the membership table");
        Assert.Single(membership.Select(r => r.DeploymentId).Distinct());
        Assert.Equal(
            new[] { fixture.Silo.GatewayPort, second.GatewayPort }.Order(),
            membership.Where(r => r.Status == Active).Select(r => r.ProxyPort).Order());

        var topic = UniqueName("two-silos");
        var create = await fixture.CliAsync(["topic", "create", topic, "--queues", "8"], second.Gateway);
        Assert.True(create.ExitCode == 0, create.ToString());
        var send = await fixture.CliAsync(["send", topic, "--body", "m {i}", "--count", "200", "--json"], second.Gateway);
        Assert.True(send.ExitCode == 0, send.ToString());
        var sent = send.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("msgId").GetString()!).ToList();
        Assert.Equal(200, sent.Distinct().Count());

        Assert.True(await second.StopAsync(TimeSpan.FromSeconds(60)), $"the silo did not stop within 60 s of SIGTERM:\n{second.LogTail()}");
        var afterStop = await fixture.ReadMembershipAsync();
        Assert.Equal(Dead, afterStop.Single(r => r.Port == second.SiloPort).Status); // it left the cluster, not just vanished
        Assert.Equal(Active, afterStop.Single(r => r.Port == fixture.Silo.SiloPort).Status);

        var consume = await fixture.CliAsync(["consume", topic, "--group", UniqueName("g"), "--idle-exit", "3s", "--json"], fixture.Silo.Gateway);

        Assert.True(consume.ExitCode == 0, consume.ToString());
        var consumed = consume.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(sent.Order(), consumed.Select(m => m.GetProperty("msgId").GetString()!).Order()); // all 200, none twice
        Assert.Equal(
            Enumerable.Range(1, 200).Select(i => $"m {i}").Order(),
            consumed.Select(m => m.GetProperty("body").GetString()!).Order());
        Assert.Equal(200, await fixture.Database.CountMessagesAsync(topic));
    }
}
