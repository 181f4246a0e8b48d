using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Grains;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

/// <summary>A one-silo cluster with long polling off (RocketMQ's longPollingEnable=false): pulls are short-polled.</summary>
public sealed class ShortPollingClusterFixture : ClusterFixtureBase
{
    public static readonly TimeSpan ShortPollingTime = TimeSpan.FromMilliseconds(800);

    protected override short Silos => 1;

    protected override void Configure(TestClusterBuilder builder) => builder.AddSiloBuilderConfigurator<Configurator>();

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.PostConfigure<BrokerOptions>(o =>
        {
            o.LongPollingEnabled = false;
            o.ShortPollingTime = ShortPollingTime;
        });
    }
}

public sealed class ShortPollingTests(ShortPollingClusterFixture fixture) : IClassFixture<ShortPollingClusterFixture>
{
    /// <summary>Only a guard against a hang; never a claim about speed.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task A_pull_at_the_end_is_held_for_the_short_polling_time_not_its_whole_suspend()
    {
        var topic = await _grains.CreateTopicAsync("short-empty", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(2);

        var clock = Stopwatch.StartNew();
        var result = await queue.Pull(new PullRequest("short-g", 2, SuspendTimeout: TimeSpan.FromSeconds(25))).WaitAsync(HangGuard);
        clock.Stop();

        Assert.Equal(PullStatus.NoNewMessage, result.Status);
        Assert.Equal(2, result.NextBeginOffset);
        Assert.True(clock.Elapsed >= ShortPollingClusterFixture.ShortPollingTime - TimeSpan.FromMilliseconds(20), $"answered after {clock.Elapsed}");
        // A long poll would have waited the 25 s asked for (the broker's cap is 20 s).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(19), $"held {clock.Elapsed}, as a long poll");
    }

    [Fact]
    public async Task A_message_arriving_during_the_hold_does_not_wake_the_pull_but_is_returned_at_its_end()
    {
        var topic = await _grains.CreateTopicAsync("short-arrive", queues: 1);
        var queue = _grains.Queue(topic, 0);

        var clock = Stopwatch.StartNew();
        var parked = queue.Pull(new PullRequest("short-g", 0, SuspendTimeout: TimeSpan.FromSeconds(25)));
        await queue.Append(Batch(Message("late"))).WaitAsync(HangGuard);
        var result = await parked.WaitAsync(HangGuard);
        clock.Stop();

        Assert.Equal(PullStatus.Found, result.Status);
        Assert.Equal("late", Assert.Single(result.Messages).BodyAsString());
        // Long polling answers at the commit; short polling only when its hold is over.
        Assert.True(clock.Elapsed >= ShortPollingClusterFixture.ShortPollingTime - TimeSpan.FromMilliseconds(20), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_push_consumer_receives_every_message_from_a_short_polling_broker()
    {
        var topic = await _grains.CreateTopicAsync("short-push", queues: 2);
        var received = new ConcurrentDictionary<string, byte>();
        await using var consumer = new PushConsumer(_grains, new PushConsumerOptions
        {
            ConsumerGroup = UniqueName("short-push"),
            ConsumeFromWhere = ConsumeFromWhere.FirstOffset,
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            RebalanceInterval = TimeSpan.FromSeconds(2),
        });
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            foreach (var m in messages) received.TryAdd(m.MsgId, 0);
            return Task.FromResult(ConsumeResult.Success);
        });
        await consumer.StartAsync();

        await using var producer = new Producer(_grains);
        var sent = new List<string>();
        // Sent while the consumer's pulls are held at the end of the queues, in three bursts.
        for (var burst = 0; burst < 3; burst++)
        {
            foreach (var i in Enumerable.Range(0, 10)) sent.Add((await producer.SendAsync(new Message(topic, $"b{burst}-{i}"))).MsgId);
            await Task.Delay(300);
        }

        await Eventually.PollAsync(() => Task.FromResult(received.Count), n => n >= sent.Count, HangGuard, "all 30 messages");
        Assert.Equal(sent.Order(), received.Keys.Order());
    }
}
