using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansMQ.Client;
using OrleansMQ.Client.Hosting;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Hosting;

/// <summary>
/// Producers and consumers as services of a generic host, both ways an application reaches the broker: OrleansMQ's
/// own connection to the gateway, and the application's own Orleans client. Against the real silo process, since the
/// in-process test cluster's gateways speak an in-memory transport an outside client cannot reach.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class HostingTests(SiloProcessFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private OrleansMQConnection? _connection;

    private AdminClient Admin => _connection!.CreateAdminClient();

    public async Task InitializeAsync() => _connection = await OrleansMQConnection.ConnectAsync(fixture.Silo.Gateway);

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }

    public sealed record Order(string Id, decimal Amount);

    /// <summary>What the handlers saw; a singleton, while the handlers themselves are scoped.</summary>
    public sealed class Sink
    {
        public ConcurrentQueue<(string Body, int ReconsumeTimes, Guid Handler)> Handled { get; } = new();
        public ConcurrentQueue<Order> Orders { get; } = new();
        public ConcurrentDictionary<string, int> Failures { get; } = new();
    }

    /// <summary>Fails the first delivery of a body starting with "fail", to show a thrown handler loses nothing.</summary>
    public sealed class RecordingHandler(Sink sink) : IMessageHandler
    {
        private readonly Guid _instance = Guid.NewGuid();

        public Task HandleAsync(MessageExt message, CancellationToken cancellationToken)
        {
            var body = message.BodyAsString();
            if (body.StartsWith("fail", StringComparison.Ordinal) && sink.Failures.AddOrUpdate(body, 1, (_, n) => n + 1) == 1)
            {
                throw new InvalidOperationException("first delivery fails");
            }
            sink.Handled.Enqueue((body, message.ReconsumeTimes, _instance));
            return Task.CompletedTask;
        }
    }

    public sealed class OrderHandler(Sink sink) : IMessageHandler<Order>
    {
        public Task HandleAsync(Order payload, MessageExt message, CancellationToken cancellationToken)
        {
            sink.Orders.Enqueue(payload);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Own_connection_gives_an_injectable_producer_and_a_consumer_whose_scoped_handler_sees_every_message_and_retries_a_failure()
    {
        var topic = UniqueName("host-own");
        var group = UniqueName("host-own-g");
        await Admin.CreateTopicAsync(topic, 2);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // the handlers' failures are expected here; keep them out of the test log
        builder.Services.AddSingleton<Sink>();
        builder.Services.AddOrleansMQClient(o => o.Gateways = fixture.Silo.Gateway)
            .AddProducer(p => p.ProducerGroup = "hosting-tests")
            .AddConsumer<RecordingHandler>(c =>
            {
                c.Topic = topic;
                c.Consumer.ConsumerGroup = group;
                c.Consumer.ConsumeFromWhere = ConsumeFromWhere.FirstOffset;
            });
        using var host = builder.Build();
        await host.StartAsync();

        var producer = host.Services.GetRequiredService<Producer>();
        var bodies = new[] { "a", "b", "fail-c", "d" };
        foreach (var body in bodies) await producer.SendAsync(new Message(topic, body));

        var sink = host.Services.GetRequiredService<Sink>();
        await Eventually.PollAsync(() => Task.FromResult(sink.Handled.Count), n => n >= bodies.Length, Guard, "every message handled");
        Assert.Equal(bodies.Order(), sink.Handled.Select(h => h.Body).Order());
        Assert.Equal(1, sink.Handled.Single(h => h.Body == "fail-c").ReconsumeTimes);
        Assert.Equal(bodies.Length, sink.Handled.Select(h => h.Handler).Distinct().Count());
        Assert.Single(await Admin.GetGroupInstancesAsync(group));

        await host.StopAsync();
        Assert.Empty(await Admin.GetGroupInstancesAsync(group));
        var admin = host.Services.GetRequiredService<AdminClient>();
        var closed = await Assert.ThrowsAsync<MQException>(() => admin.ListTopicsAsync());
        Assert.Equal(MQErrorCode.BrokerUnavailable, closed.Code);
    }

    /// <summary>The worker-service shape: a hosted service that takes the producer in its constructor and sends once it runs.</summary>
    public sealed class SendingWorker(Producer producer, Sink sink, WorkerTopic topic) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var sent = await producer.SendAsync(new Message(topic.Name, "from the worker"), stoppingToken);
            sink.Handled.Enqueue((sent.MsgId, 0, Guid.Empty));
        }
    }

    public sealed record WorkerTopic(string Name);

    [Fact]
    public async Task A_hosted_service_takes_the_producer_in_its_constructor_and_sends_once_the_host_runs()
    {
        var topic = UniqueName("host-worker");
        await Admin.CreateTopicAsync(topic, 1);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Sink>();
        builder.Services.AddSingleton(new WorkerTopic(topic));
        builder.Services.AddOrleansMQClient(o => o.Gateways = fixture.Silo.Gateway).AddProducer(p => p.ProducerGroup = "hosting-worker");
        builder.Services.AddHostedService<SendingWorker>();
        using var host = builder.Build();

        // Resolved before the start, as the host itself does for the worker: usable, but not for sending yet.
        var early = host.Services.GetRequiredService<Producer>();
        var notYet = await Assert.ThrowsAsync<MQException>(() => early.SendAsync(new Message(topic, "too early")));
        await host.StartAsync();

        var sink = host.Services.GetRequiredService<Sink>();
        var (msgId, _, _) = await Eventually.PollAsync(() => Task.FromResult(sink.Handled.TryPeek(out var h) ? h : default), h => h.Body is not null, Guard, "the worker's send");
        await host.StopAsync();

        Assert.Equal(MQErrorCode.BrokerUnavailable, notYet.Code);
        var stored = Assert.Single(await Admin.QueryMessageByIdAsync(msgId));
        Assert.Equal((topic, "from the worker"), (stored.Topic, stored.BodyAsString()));
        Assert.Equal(1, (await Admin.GetTopicStatusAsync(topic)).Sum(q => q.MaxOffset - q.MinOffset));
    }

    [Fact]
    public void A_producer_registered_with_a_bad_group_fails_at_registration()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<MQException>(() => services.AddOrleansMQClient().AddProducer(p => p.ProducerGroup = "bad group"));
        Assert.Equal(MQErrorCode.InvalidGroupName, error.Code);
    }

    [Fact]
    public async Task The_applications_own_Orleans_client_carries_a_JSON_consumer()
    {
        var topic = UniqueName("host-app");
        var group = UniqueName("host-app-g");
        await Admin.CreateTopicAsync(topic, 2);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // the handlers' failures are expected here; keep them out of the test log
        builder.Services.AddSingleton<Sink>();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, fixture.Silo.GatewayPort));
            client.Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = OrleansMQConnectionOptions.DefaultClusterId);
            client.AddOrleansMQ()
                .AddProducer("orders", p => p.ProducerGroup = "orders-app")
                .AddConsumer<OrderHandler, Order>(c =>
                {
                    c.Topic = topic;
                    c.SelectorType = ExpressionType.Sql92;
                    c.SelectorExpression = "amount > 10";
                    c.Consumer.ConsumerGroup = group;
                    c.Consumer.ConsumeFromWhere = ConsumeFromWhere.FirstOffset;
                });
        });
        using var host = builder.Build();
        await host.StartAsync();

        var producer = host.Services.GetRequiredKeyedService<Producer>("orders");
        var order = new Order("order-42", 99.5m);
        await producer.SendAsync(new Message(topic, JsonSerializer.SerializeToUtf8Bytes(order, new JsonSerializerOptions(JsonSerializerDefaults.Web))) { Properties = { ["amount"] = "99.5" } });
        await producer.SendAsync(new Message(topic, Encoding.UTF8.GetBytes("{\"id\":\"order-43\",\"amount\":1}")) { Properties = { ["amount"] = "1" } });

        var sink = host.Services.GetRequiredService<Sink>();
        await Eventually.PollAsync(() => Task.FromResult(sink.Orders.Count), n => n >= 1, Guard, "the big order handled");
        Assert.Equal(order, Assert.Single(sink.Orders));
        await host.StopAsync();
    }

    [Theory]
    [InlineData("bad topic!", ExpressionType.Tag, "*", MQErrorCode.InvalidTopicName)]
    [InlineData("Orders", ExpressionType.Sql92, "amount >", MQErrorCode.InvalidFilterExpression)]
    [InlineData("Orders", ExpressionType.Tag, "a | b", MQErrorCode.InvalidFilterExpression)]
    public async Task A_consumer_registered_with_a_bad_topic_or_selector_fails_the_host_start_with_a_typed_error(
        string topic, ExpressionType selectorType, string selector, MQErrorCode expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // the handlers' failures are expected here; keep them out of the test log
        builder.Services.AddSingleton<Sink>();
        builder.Services.AddOrleansMQClient(o => o.Gateways = "127.0.0.1:1")
            .AddConsumer<RecordingHandler>(c =>
            {
                c.Topic = topic;
                c.SelectorType = selectorType;
                c.SelectorExpression = selector;
                c.Consumer.ConsumerGroup = "g";
            });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<MQException>(() => host.StartAsync());
        Assert.Equal(expected, error.Code);
    }
}
