using OrleansMQ.Client;
using OrleansMQ.Messages;

namespace OrleansMQ.Tests.Client;

/// <summary>The other allocation strategies as pure functions: every queue exactly once, deterministic, and their own shapes.</summary>
public sealed class UnitAllocationStrategiesTests
{
    private static List<MessageQueue> Queues(int count, string topic = "t") => [.. Enumerable.Range(0, count).Select(i => new MessageQueue(topic, i))];

    private static List<string> Clients(int count) => [.. Enumerable.Range(0, count).Select(i => $"c{i:D2}")];

    private static Dictionary<string, List<MessageQueue>> AllShares(IAllocateMessageQueueStrategy strategy, List<MessageQueue> queues, List<string> clients) =>
        clients.ToDictionary(c => c, c => strategy.Allocate("g", c, queues, clients).ToList());

    public static TheoryData<string> StrategyNames => ["circle", "hash", "sticky"];

    private static IAllocateMessageQueueStrategy Named(string name) => name switch
    {
        "circle" => AllocateMessageQueueAveragelyByCircle.Instance,
        "hash" => new AllocateMessageQueueConsistentHash(),
        _ => AllocateMessageQueueSticky.Instance,
    };

    [Theory]
    [MemberData(nameof(StrategyNames))]
    public void Every_queue_goes_to_exactly_one_client_for_any_group_size(string name)
    {
        var strategy = Named(name);
        foreach (var queueCount in new[] { 1, 3, 8, 16, 33 })
        {
            foreach (var clientCount in new[] { 1, 2, 3, 5, 40 })
            {
                var queues = Queues(queueCount);
                var shares = AllShares(strategy, queues, Clients(clientCount));
                var all = shares.Values.SelectMany(s => s).ToList();
                Assert.Equal(queues, all.Order().ToList());
                Assert.Equal(all.Count, all.Distinct().Count());
            }
        }
    }

    [Theory]
    [MemberData(nameof(StrategyNames))]
    public void A_client_not_in_the_group_gets_nothing_and_the_result_is_deterministic(string name)
    {
        var strategy = Named(name);
        Assert.Empty(strategy.Allocate("g", "stranger", Queues(8), Clients(3)));
        Assert.Equal(strategy.Allocate("g", "c01", Queues(8), Clients(3)), strategy.Allocate("g", "c01", Queues(8), Clients(3)));
    }

    [Fact]
    public void Average_by_circle_deals_queues_out_like_cards()
    {
        var shares = AllShares(AllocateMessageQueueAveragelyByCircle.Instance, Queues(8), Clients(3));
        Assert.Equal([0, 3, 6], shares["c00"].Select(q => q.QueueId));
        Assert.Equal([1, 4, 7], shares["c01"].Select(q => q.QueueId));
        Assert.Equal([2, 5], shares["c02"].Select(q => q.QueueId));
    }

    [Fact]
    public void Consistent_hash_moves_only_queues_to_the_joining_client()
    {
        var strategy = new AllocateMessageQueueConsistentHash();
        var queues = Queues(64);
        var before = AllShares(strategy, queues, Clients(3));
        var after = AllShares(strategy, queues, Clients(4));
        foreach (var client in Clients(3))
        {
            // A queue either stays or moves to the newcomer c03, never between old clients.
            Assert.Empty(after[client].Except(before[client]));
        }
        Assert.NotEmpty(after["c03"]);
    }

    [Fact]
    public void Consistent_hash_uses_RocketMQs_md5_ring_hash()
    {
        // The first four MD5 bytes, big-endian, as RocketMQ's ConsistentHashRouter: MD5("a") = 0cc175b9….
        Assert.Equal(0x0cc175b9L, AllocateMessageQueueConsistentHash.Hash("a"));
    }

    [Fact]
    public void Sticky_without_current_assignments_is_as_even_as_average()
    {
        var shares = AllShares(AllocateMessageQueueSticky.Instance, Queues(8), Clients(3));
        Assert.Equal([3, 3, 2], shares.Values.Select(s => s.Count).OrderDescending());
    }

    [Fact]
    public void Sticky_keeps_every_queue_in_place_when_a_client_joins_except_the_newcomers_share()
    {
        var queues = Queues(16);
        var before = AllocateMessageQueueSticky.AllocateAll(queues, Clients(3), new Dictionary<string, IReadOnlyList<MessageQueue>>());
        var current = before.ToDictionary(p => p.Key, p => (IReadOnlyList<MessageQueue>)p.Value);
        var after = AllocateMessageQueueSticky.AllocateAll(queues, Clients(4), current);

        var moved = queues.Count(q => !Clients(3).Any(c => before[c].Contains(q) && after[c].Contains(q)));
        Assert.Equal(4, moved); // exactly the newcomer's share of 16 / 4
        Assert.Equal(4, after["c03"].Count);
        Assert.All(after.Values, s => Assert.InRange(s.Count, 4, 4));

        // The average strategy moves far more for the same join.
        var averageBefore = AllShares(AllocateMessageQueueAveragely.Instance, queues, Clients(3));
        var averageAfter = AllShares(AllocateMessageQueueAveragely.Instance, queues, Clients(4));
        var averageMoved = queues.Count(q => !Clients(3).Any(c => averageBefore[c].Contains(q) && averageAfter[c].Contains(q)));
        Assert.True(averageMoved > moved, $"average moved {averageMoved}, sticky {moved}");
    }

    [Fact]
    public void Sticky_gives_only_the_leavers_queues_away_when_a_client_leaves()
    {
        var queues = Queues(12);
        var before = AllocateMessageQueueSticky.AllocateAll(queues, Clients(4), new Dictionary<string, IReadOnlyList<MessageQueue>>());
        var current = before.ToDictionary(p => p.Key, p => (IReadOnlyList<MessageQueue>)p.Value);
        var remaining = new List<string> { "c00", "c02", "c03" };
        var after = AllocateMessageQueueSticky.AllocateAll(queues, remaining, current);

        foreach (var client in remaining)
        {
            Assert.Empty(before[client].Except(after[client])); // nobody loses a queue
        }
        Assert.Equal(before["c01"].Order(), remaining.SelectMany(c => after[c].Except(before[c])).Order());
    }

    [Fact]
    public void Sticky_settles_a_queue_claimed_twice_on_one_owner()
    {
        var queues = Queues(4);
        var current = new Dictionary<string, IReadOnlyList<MessageQueue>>
        {
            ["c00"] = [queues[0], queues[1]],
            ["c01"] = [queues[1], queues[2], new MessageQueue("gone", 0)],
        };
        var after = AllocateMessageQueueSticky.AllocateAll(queues, Clients(2), current);
        Assert.Equal([0, 1], after["c00"].Select(q => q.QueueId));
        Assert.Equal([2, 3], after["c01"].Select(q => q.QueueId));
    }
}
