using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using OrleansMQ.Client;
using OrleansMQ.Grains.Retention;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Transactions;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Transactions.TransactionTestKit;

namespace OrleansMQ.Tests.Transactions;

/// <summary>The retention sweep and half messages: resolved records go after their retention, unresolved ones never.</summary>
[Collection(BrokerCollection.Name)]
public sealed class TransactionRetentionTests(BrokerClusterFixture fixture)
{
    private RetentionSweeper Sweeper =>
        ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost!.Services.GetRequiredService<RetentionSweeper>();

    [Fact]
    public async Task The_sweep_removes_old_resolved_transaction_records_and_never_a_pending_one()
    {
        var topic = await fixture.Client.CreateTopicAsync("tx-retention", 1);
        var group = UniqueName("pg-retention");
        var answer = LocalTransactionState.Rollback;
        var listener = new ScriptedListener(_ => Task.FromResult(answer));
        await using var producer = new TransactionProducer(fixture.Client, Options(group), listener);
        var rolledBack = await producer.SendMessageInTransactionAsync(new Message(topic, "rolled back"));
        answer = LocalTransactionState.Unknown;
        var message = new Message(topic, "still pending");
        message.Properties[TransactionRules.CheckImmunityTimeProperty] = "600";
        var pending = await producer.SendMessageInTransactionAsync(message);
        await using (var age = fixture.Database.DataSource.CreateCommand(
            "UPDATE omq_half_message SET created_at = created_at - interval '100 hours', resolved_at = resolved_at - interval '100 hours' WHERE producer_group = $1"))
        {
            age.Parameters.Add(new NpgsqlParameter<string> { TypedValue = group });
            Assert.Equal(2, await age.ExecuteNonQueryAsync());
        }

        await Sweeper.SweepAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        var left = Assert.Single(await new AdminClient(fixture.Client).ListTransactionsAsync(group));
        Assert.Equal(pending.TransactionId, left.TransactionId);
        Assert.Equal(TransactionState.Pending, left.State);
        Assert.NotEqual(rolledBack.TransactionId, left.TransactionId);
    }
}
