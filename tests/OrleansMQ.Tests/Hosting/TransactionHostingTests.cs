using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansMQ.Client;
using OrleansMQ.Client.Hosting;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Transactions;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Hosting;

/// <summary>A transaction producer as a service of a generic host, its listener resolved in a scope per call (real silo process).</summary>
[Collection(ProcessCollection.Name)]
public sealed class TransactionHostingTests(SiloProcessFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    /// <summary>Stands in for the application's database: which orders are paid. A singleton; the listeners are scoped.</summary>
    public sealed class PaidOrders
    {
        public ConcurrentDictionary<string, bool> Paid { get; } = new();
        public ConcurrentBag<Guid> Listeners { get; } = [];
    }

    /// <summary>Commits "pay" at once; leaves "pay-later" unknown, and its check finds it paid by then.</summary>
    public sealed class ShopListener(PaidOrders orders) : ITransactionListener
    {
        private readonly Guid _instance = Guid.NewGuid();

        public Task<LocalTransactionState> ExecuteLocalTransactionAsync(Message message, object? arg, CancellationToken cancellationToken)
        {
            orders.Listeners.Add(_instance);
            orders.Paid[message.Keys[0]] = true;
            return Task.FromResult(message.BodyAsString() == "pay" ? LocalTransactionState.Commit : LocalTransactionState.Unknown);
        }

        public Task<LocalTransactionState> CheckLocalTransactionAsync(MessageExt message, CancellationToken cancellationToken)
        {
            orders.Listeners.Add(_instance);
            return Task.FromResult(orders.Paid.ContainsKey(message.Keys[0]) ? LocalTransactionState.Commit : LocalTransactionState.Rollback);
        }
    }

    [Fact]
    public async Task A_hosted_transaction_producer_commits_and_answers_check_backs_with_a_scoped_listener()
    {
        var topic = UniqueName("host-tx");
        var group = UniqueName("host-tx-pg");
        await using var connection = await OrleansMQConnection.ConnectAsync(fixture.Silo.Gateway);
        var admin = connection.CreateAdminClient();
        await admin.CreateTopicAsync(topic, 2);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // the handlers' failures are expected here; keep them out of the test log
        builder.Services.AddSingleton<PaidOrders>();
        builder.Services.AddOrleansMQClient(o => o.Gateways = fixture.Silo.Gateway)
            .AddTransactionProducer<ShopListener>(p => p.ProducerGroup = group);
        using var host = builder.Build();
        await host.StartAsync();

        var producer = host.Services.GetRequiredService<TransactionProducer>();
        var now = await producer.SendMessageInTransactionAsync(new Message(topic, "pay") { Keys = { "order-1" } });
        var later = new Message(topic, "pay-later") { Keys = { "order-2" } };
        later.Properties[TransactionRules.CheckImmunityTimeProperty] = "1";
        var checkedBack = await producer.SendMessageInTransactionAsync(later);

        Assert.Equal(TransactionState.Committed, now.State);
        Assert.Equal(TransactionState.Pending, checkedBack.State);
        var info = await Eventually.PollAsync(
            async () => (await admin.ListTransactionsAsync(group)).Single(t => t.TransactionId == checkedBack.TransactionId),
            t => t.State == TransactionState.Committed, Guard, "the check-back to commit the second order");
        Assert.Equal(TransactionResolver.CheckBack, info.ResolvedBy);
        var orders = host.Services.GetRequiredService<PaidOrders>();
        Assert.Equal(3, orders.Listeners.Distinct().Count()); // a scope, and so a listener, per call

        await host.StopAsync();
    }

    [Fact]
    public void Registering_a_transaction_producer_without_a_producer_group_fails_at_once()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<MQException>(() =>
            services.AddOrleansMQClient(o => o.Gateways = "127.0.0.1:1").AddTransactionProducer<ShopListener>(_ => { }));
        Assert.Equal(MQErrorCode.InvalidTransaction, error.Code);
    }
}
