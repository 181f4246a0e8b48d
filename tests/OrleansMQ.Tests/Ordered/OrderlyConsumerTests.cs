using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Ordered.OrderedTestKit;

namespace OrleansMQ.Tests.Ordered;

/// <summary>
/// Orderly consumption on the shared cluster: per-key order survives instances joining and leaving, a failing
/// message blocks only its own queue, a queue never runs on two instances at once, and handovers do not stall.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class OrderlyConsumerTests(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(45);

    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    /// <summary>Every delivery in the order listeners saw them, and whether any queue ever ran in two listeners at once.</summary>
    private sealed class OrderLog
    {
        private readonly object _gate = new();
        private readonly List<(string ClientId, MessageExt Message)> _all = [];
        private readonly ConcurrentDictionary<MessageQueue, int> _inListener = new();
        private readonly ConcurrentQueue<string> _violations = new();

        public Func<IReadOnlyList<MessageExt>, ConsumeOrderlyContext, CancellationToken, Task<ConsumeOrderlyStatus>> ListenerFor(
            string clientId, Func<MessageExt, bool>? fail = null) =>
            async (messages, context, _) =>
            {
                if (_inListener.AddOrUpdate(context.Queue, 1, (_, n) => n + 1) > 1)
                {
                    _violations.Enqueue($"{context.Queue} consumed by two listeners at once ({clientId})");
                }
                try
                {
                    await Task.Yield();
                    foreach (var message in messages)
                    {
                        if (fail?.Invoke(message) == true)
                        {
                            lock (_gate) _all.Add((clientId + "/failed", message));
                            return ConsumeOrderlyStatus.SuspendCurrentQueueAMoment;
                        }
                        lock (_gate) _all.Add((clientId, message));
                    }
                    return ConsumeOrderlyStatus.Success;
                }
                finally
                {
                    _inListener.AddOrUpdate(context.Queue, 0, (_, n) => n - 1);
                }
            };

        public List<(string ClientId, MessageExt Message)> All
        {
            get { lock (_gate) return [.. _all]; }
        }

        public List<MessageExt> Consumed => [.. All.Where(r => !r.ClientId.EndsWith("/failed", StringComparison.Ordinal)).Select(r => r.Message)];

        public int Count
        {
            get { lock (_gate) return _all.Count; }
        }

        public IReadOnlyCollection<string> Violations => _violations;
    }

    private PushConsumer Orderly(PushConsumerOptions options, string topic, OrderLog log, Func<MessageExt, bool>? fail = null)
    {
        var consumer = new PushConsumer(_grains, options);
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener(log.ListenerFor(options.ClientId, fail));
        return consumer;
    }

    private static Task WaitForAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.PollAsync(() => Task.FromResult(condition()), done => done, timeout ?? Guard, what);

    [Fact]
    public async Task Per_key_order_holds_for_1000_keys_while_instances_join_and_leave()
    {
        const int Keys = 1000;
        const int PerKey = 20;
        var topic = UniqueName("ord-big");
        await _admin.CreateTopicAsync(topic, 16, Topics.TopicMessageType.Fifo);
        var group = UniqueName("g");
        var log = new OrderLog();
        var consumers = new List<PushConsumer>();
        PushConsumer Start(string name)
        {
            var consumer = Orderly(Options(group, $"{name}-{Guid.NewGuid():N}"), topic, log);
            consumers.Add(consumer);
            return consumer;
        }
        var clock = Stopwatch.StartNew();
        try
        {
            var a = Start("a");
            var b = Start("b");
            var c = Start("c");
            await Task.WhenAll(a.StartAsync(), b.StartAsync(), c.StartAsync());

            var sending = Task.Run(async () =>
            {
                await using var producer = new Producer(_grains);
                for (var seq = 0; seq < PerKey; seq++)
                {
                    // One round at a time: a key's next message is sent after its previous one was stored (send order = queue order).
                    await Task.WhenAll(Enumerable.Range(0, Keys).Select(k =>
                        producer.SendAsync(new Message(topic, seq.ToString()) { MessageGroup = $"key-{k}", Keys = { $"key-{k}" } })));
                }
            });

            await WaitForAsync(() => log.Count >= 4000, "4000 messages before the first change");
            await b.StopAsync(); // leaves gracefully mid-run
            var d = Start("d");
            await d.StartAsync(); // joins mid-run
            await WaitForAsync(() => log.Count >= 10000, "10000 messages before the second change");
            var e = Start("e");
            await e.StartAsync();
            await a.StopAsync();
            await sending;
            await WaitForAsync(() => log.Count >= Keys * PerKey, $"all {Keys * PerKey} messages");
            await Task.Delay(500); // a late duplicate would show up here
        }
        finally
        {
            foreach (var consumer in consumers) await consumer.DisposeAsync();
        }

        var all = log.All.Where(r => !r.ClientId.EndsWith("/failed", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{all.Count} deliveries of {Keys * PerKey} messages in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Empty(log.Violations);
        // A stored message (queue offset) delivered twice is a consumer duplicate: allowed only across a handover
        // (two instances) and only for the message in flight, so at most once per queue per membership change.
        var redelivered = all.GroupBy(r => (r.Message.QueueId, r.Message.QueueOffset)).Where(g => g.Count() > 1).ToList();
        foreach (var twice in redelivered)
        {
            output.WriteLine($"redelivered {twice.Key}: {string.Join(", ", twice.Select(r => $"{r.Message.Keys[0]}#{r.Message.BodyAsString()} by {r.ClientId}"))}");
            var history = all.Where(r => r.Message.QueueId == twice.Key.QueueId).Select(r => $"{r.Message.QueueOffset}:{r.ClientId[0]}").ToList();
            var at = history.IndexOf($"{twice.Key.QueueOffset}:{twice.First().ClientId[0]}");
            output.WriteLine($"  queue history: {string.Join(" ", history.Skip(Math.Max(0, at - 5)).Take(15))}");
            Assert.True(twice.Select(r => r.ClientId).Distinct().Count() == twice.Count(), $"{twice.Key} was delivered twice to one instance");
        }
        const int MembershipChanges = 4; // b leaves, d joins, e joins, a leaves
        Assert.All(redelivered.GroupBy(g => g.Key.QueueId), q => Assert.True(q.Count() <= MembershipChanges, $"queue {q.Key} redelivered {q.Count()} messages"));
        foreach (var key in all.GroupBy(r => r.Message.Keys[0]))
        {
            // Every key's messages in send order, none missing; a redelivery repeats only the message just seen.
            var sequence = key.Select(r => int.Parse(r.Message.BodyAsString(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
            var distinct = sequence.Where((seq, i) => i == 0 || seq != sequence[i - 1]).ToList();
            Assert.True(Enumerable.Range(0, PerKey).SequenceEqual(distinct), $"{key.Key} was seen as [{string.Join(",", sequence)}]");
        }
        Assert.Equal(Keys, all.Select(r => r.Message.Keys[0]).Distinct().Count());
        Assert.Equal(Keys * PerKey, all.Select(r => r.Message.MsgId).Distinct().Count());
    }

    [Fact]
    public async Task A_failing_orderly_message_blocks_only_its_own_queue_and_is_retried_in_place()
    {
        var topic = await _grains.CreateTopicAsync("ord-fail", 4);
        await using (var producer = new Producer(_grains))
        {
            for (var i = 0; i < 10; i++)
            {
                for (var q = 0; q < 4; q++)
                {
                    await producer.SendAsync(new Message(topic, $"q{q}-{i}"), QueueIdSelector.Instance, q);
                }
            }
        }
        var log = new OrderLog();
        var othersDone = false;
        var options = Options(UniqueName("g"));
        await using var consumer = Orderly(options, topic, log, fail: m =>
        {
            if (m.BodyAsString() != "q0-3") return false;
            othersDone = log.Consumed.Count(x => x.QueueId != 0) == 30;
            return !othersDone || m.ReconsumeTimes < 3;
        });
        await consumer.StartAsync();
        await WaitForAsync(() => log.Consumed.Count == 40, "all 40 messages");

        Assert.Empty(log.Violations);
        var queue0 = log.All.Where(r => r.Message.QueueId == 0).ToList();
        var firstSuccessOfBlocked = queue0.FindIndex(r => r.Message.BodyAsString() == "q0-3" && !r.ClientId.EndsWith("/failed", StringComparison.Ordinal));
        // Before it succeeded, only q0-0..q0-2 and failed attempts of q0-3 were delivered from queue 0 …
        Assert.Equal(["q0-0", "q0-1", "q0-2"], queue0.Take(3).Select(r => r.Message.BodyAsString()));
        Assert.All(queue0.Skip(3).Take(firstSuccessOfBlocked - 3), r => Assert.Equal("q0-3", r.Message.BodyAsString()));
        // … each attempt counted, …
        var attempts = queue0.Where(r => r.Message.BodyAsString() == "q0-3").Select(r => r.Message.ReconsumeTimes).ToList();
        Assert.Equal(Enumerable.Range(0, attempts.Count), attempts);
        Assert.True(attempts.Count >= 4, $"q0-3 was delivered {attempts.Count} times");
        // … and then the rest of queue 0 in order, while the other queues had flowed meanwhile.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"q0-{i}"), log.Consumed.Where(m => m.QueueId == 0).Select(m => m.BodyAsString()));
        for (var q = 1; q < 4; q++)
        {
            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"q{q}-{i}"), log.Consumed.Where(m => m.QueueId == q).Select(m => m.BodyAsString()));
        }
        Assert.True(othersDone, "the other queues were consumed while q0-3 kept failing");
    }

    [Fact]
    public async Task When_an_orderly_instance_leaves_gracefully_its_queues_resume_on_the_other_at_once()
    {
        var topic = await _grains.CreateTopicAsync("ord-handover", 4);
        var group = UniqueName("g");
        var log = new OrderLog();
        var a = Orderly(Options(group, $"a-{Guid.NewGuid():N}"), topic, log);
        // b neither polls nor retries locks on its own within this test: only the group grain's notifications can
        // make it rebalance (a leaves) and take a queue a releases (when b joins).
        var slow = Options(group, $"b-{Guid.NewGuid():N}");
        slow.HeartbeatInterval = slow.RebalanceInterval = slow.LockRetryInterval = TimeSpan.FromMinutes(1);
        await using var b = Orderly(slow, topic, log);
        await using var producer = new Producer(_grains);
        try
        {
            await a.StartAsync();
            await b.StartAsync();
            await WaitForAsync(() => a.TopicQueues().Count == 2 && b.TopicQueues().Count == 2, "the queues to be split");
            for (var q = 0; q < 4; q++) await producer.SendAsync(new Message(topic, $"before-{q}"), QueueIdSelector.Instance, q);
            await WaitForAsync(() => log.Count == 4, "the first messages (b's only after a released its half)", TimeSpan.FromSeconds(10));
        }
        finally
        {
            await a.StopAsync();
        }
        var left = Stopwatch.StartNew();
        var moved = a.TopicQueues().Count == 0 ? [0, 1] : a.TopicQueues().Select(q => q.QueueId).ToArray();
        await producer.SendAsync(new Message(topic, "after"), QueueIdSelector.Instance, moved[0]);
        var sentAfter = left.Elapsed;
        await WaitForAsync(() => b.TopicQueues().Count == 4, "the other instance to take every queue", TimeSpan.FromSeconds(10));
        var rebalanced = left.Elapsed;
        await WaitForAsync(() => log.Consumed.Any(m => m.BodyAsString() == "after"), "the message sent to a moved queue");
        output.WriteLine($"sent {sentAfter.TotalMilliseconds:0} ms, rebalanced {rebalanced.TotalMilliseconds:0} ms");
        output.WriteLine($"a moved queue resumed on the other instance {left.Elapsed.TotalMilliseconds:0} ms after the graceful leave (lease {TestSiloConfigurator.QueueLockLease})");
        Assert.Equal(5, log.Consumed.Count);
        Assert.Empty(log.Violations);
        var instances = await _admin.GetGroupInstancesAsync(group);
        var only = Assert.Single(instances);
        Assert.Equal(4, only.Locks.Count(q => !OrleansMQ.Retry.RetryRules.IsRetryTopic(q.Topic))); // besides its retry queue
        Assert.True(only.Orderly);
    }

    [Fact]
    public async Task A_killed_holders_queues_move_only_after_its_lease_or_membership_runs_out()
    {
        var topic = await _grains.CreateTopicAsync("ord-killed", 2);
        var group = UniqueName("g");
        var grain = _grains.GetGrain<IConsumerGroupGrain>(group);
        // A "killed" instance: it joined and locked both queues, then went silent.
        await grain.Heartbeat(new ConsumerHeartbeat("zz-ghost", [new Subscription(topic, "*")], MessageModel.Clustering, ConsumeFromWhere.FirstOffset));
        var ghost = await grain.LockBatch("zz-ghost", [new MessageQueue(topic, 0), new MessageQueue(topic, 1)]);
        var silentSince = Stopwatch.StartNew();
        Assert.Equal(2, ghost.Locked.Count);
        await using (var producer = new Producer(_grains))
        {
            await producer.SendAsync(new Message(topic, "m0"), QueueIdSelector.Instance, 0);
            await producer.SendAsync(new Message(topic, "m1"), QueueIdSelector.Instance, 1);
        }
        var log = new OrderLog();
        await using var survivor = Orderly(Options(group, $"a-{Guid.NewGuid():N}"), topic, log);
        await survivor.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(0, log.Count); // the ghost's locks keep its queues from being consumed elsewhere

        await WaitForAsync(() => log.Count == 2, "both messages after the ghost is dropped");
        output.WriteLine($"queues of a silent holder resumed {silentSince.Elapsed.TotalSeconds:0.0} s after its last call " +
                         $"(lease {TestSiloConfigurator.QueueLockLease}, consumer expiry {TestSiloConfigurator.ConsumerExpiry})");
        var firstRelease = TestSiloConfigurator.QueueLockLease < TestSiloConfigurator.ConsumerExpiry ? TestSiloConfigurator.QueueLockLease : TestSiloConfigurator.ConsumerExpiry;
        Assert.True(silentSince.Elapsed >= firstRelease - TimeSpan.FromMilliseconds(500), $"resumed after {silentSince.Elapsed}, before the ghost's lock could have run out");
    }

    [Fact]
    public async Task The_group_grain_grants_a_queue_lock_to_one_live_instance_and_announces_its_release()
    {
        var group = UniqueName("g");
        var grain = _grains.GetGrain<IConsumerGroupGrain>(group);
        var q0 = new MessageQueue("t", 0);
        var q1 = new MessageQueue("t", 1);
        var q2 = new MessageQueue("t", 2);
        Assert.Empty((await grain.LockBatch("stranger", [q0])).Locked); // only members may lock

        var released = new ConcurrentQueue<MessageQueue>();
        var observer = new RecordingObserver(released);
        var reference = _grains.CreateObjectReference<IConsumerGroupObserver>(observer);
        try
        {
            await grain.Heartbeat(new ConsumerHeartbeat("a", [], MessageModel.Clustering, ConsumeFromWhere.LastOffset));
            await grain.Heartbeat(new ConsumerHeartbeat("b", [], MessageModel.Clustering, ConsumeFromWhere.LastOffset) { Observer = reference });

            var a = await grain.LockBatch("a", [q0, q1]);
            Assert.Equal([q0, q1], a.Locked);
            Assert.True(a.ValidFor > TimeSpan.Zero && a.ValidFor <= TestSiloConfigurator.QueueLockLease / 2);
            Assert.Equal([q2], (await grain.LockBatch("b", [q1, q2])).Locked);

            await grain.UnlockBatch("a", [q1], new Dictionary<MessageQueue, long> { [q1] = 42 });
            await WaitForAsync(() => released.Contains(q1), "b to hear that q1 was released", TimeSpan.FromSeconds(5));
            var handedOver = await grain.LockBatch("b", [q1, q2]);
            Assert.Equal([q1, q2], handedOver.Locked);
            Assert.Equal(new Dictionary<MessageQueue, long> { [q1] = 42 }, handedOver.HandoverOffsets); // a's last commit goes with the lock
            Assert.Null((await grain.LockBatch("b", [q1, q2])).HandoverOffsets);                          // once
            Assert.Equal([q0], (await grain.LockBatch("a", [q0, q1])).Locked);

            var instances = await grain.GetInstances();
            Assert.Equal([q0], instances.Single(i => i.ClientId == "a").Locks);
            Assert.Equal([q1, q2], instances.Single(i => i.ClientId == "b").Locks);

            await grain.Unregister("a");
            await WaitForAsync(() => released.Contains(q0) && observer.MembershipChanges > 0, "b to hear that a left and q0 was released", TimeSpan.FromSeconds(5));
            Assert.Equal([q0], (await grain.LockBatch("b", [q0])).Locked);
        }
        finally
        {
            _grains.DeleteObjectReference<IConsumerGroupObserver>(reference);
        }
    }

    [Fact]
    public async Task A_reactivated_group_grain_grants_no_new_lock_before_the_persisted_horizon_but_takes_back_reasserted_ones()
    {
        var group = UniqueName("g");
        var q0 = new MessageQueue("t", 0);
        var q1 = new MessageQueue("t", 1);
        // As if an earlier activation (on a silo that died) had granted locks valid until 3 s from now.
        await fixture.Database.SetLockHorizonAsync(group, DateTimeOffset.UtcNow.AddSeconds(3));
        var grain = _grains.GetGrain<IConsumerGroupGrain>(group);

        // a still consumes q0 under its old lock and says so on its heartbeat; b is new.
        await grain.Heartbeat(new ConsumerHeartbeat("a", [], MessageModel.Clustering, ConsumeFromWhere.LastOffset) { HeldLocks = [q0] });
        await grain.Heartbeat(new ConsumerHeartbeat("b", [], MessageModel.Clustering, ConsumeFromWhere.LastOffset));
        Assert.Equal([q0], (await grain.LockBatch("a", [q0])).Locked);   // re-asserted: renewed at once
        Assert.Empty((await grain.LockBatch("b", [q0, q1])).Locked);     // q1's old holder may be alive: wait
        Assert.Empty((await grain.LockBatch("a", [q1])).Locked);

        var granted = await Eventually.PollAsync(() => grain.LockBatch("b", [q0, q1]), r => r.Locked.Count > 0, TimeSpan.FromSeconds(10), "the horizon to pass");
        Assert.Equal([q1], granted.Locked); // q0 stays a's
        Assert.True(await fixture.Database.ReadLockHorizonAsync(group) > DateTimeOffset.UtcNow, "the new grant moved the horizon forward");
    }

    private sealed class RecordingObserver(ConcurrentQueue<MessageQueue> released) : IConsumerGroupObserver
    {
        private int _membershipChanges;

        public int MembershipChanges => Volatile.Read(ref _membershipChanges);

        public Task OnMembershipChanged(long version)
        {
            Interlocked.Increment(ref _membershipChanges);
            return Task.CompletedTask;
        }

        public Task OnQueuesUnlocked(IReadOnlyList<MessageQueue> queues)
        {
            foreach (var queue in queues) released.Enqueue(queue);
            return Task.CompletedTask;
        }
    }
}
