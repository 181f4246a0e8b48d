using OrleansMQ.Client;
using OrleansMQ.Messages;

namespace OrleansMQ.Tests.Client;

/// <summary>The average allocation must give exactly RocketMQ's AllocateMessageQueueAveragely shares, or mixed Java/.NET groups would double-consume.</summary>
public sealed class UnitAllocateMessageQueueAveragelyTests
{
    private static readonly AllocateMessageQueueAveragely Strategy = AllocateMessageQueueAveragely.Instance;

    private static List<MessageQueue> Queues(int count) => [.. Enumerable.Range(0, count).Select(i => new MessageQueue("t", i))];

    private static List<string> Clients(int count) => [.. Enumerable.Range(0, count).Select(i => $"c{i:D2}")];

    private static int[] Share(int queues, int clients, int index) =>
        [.. Strategy.Allocate("g", $"c{index:D2}", Queues(queues), Clients(clients)).Select(q => q.QueueId)];

    [Fact]
    public void Eight_queues_over_three_clients_give_RocketMQs_contiguous_ranges()
    {
        Assert.Equal([0, 1, 2], Share(8, 3, 0));
        Assert.Equal([3, 4, 5], Share(8, 3, 1));
        Assert.Equal([6, 7], Share(8, 3, 2));
    }

    [Fact]
    public void Ten_queues_over_four_clients_give_the_remainder_to_the_first_clients()
    {
        Assert.Equal([0, 1, 2], Share(10, 4, 0));
        Assert.Equal([3, 4, 5], Share(10, 4, 1));
        Assert.Equal([6, 7], Share(10, 4, 2));
        Assert.Equal([8, 9], Share(10, 4, 3));
    }

    [Fact]
    public void With_more_clients_than_queues_each_of_the_first_clients_gets_one_queue_and_the_rest_none()
    {
        Assert.Equal([0], Share(3, 5, 0));
        Assert.Equal([1], Share(3, 5, 1));
        Assert.Equal([2], Share(3, 5, 2));
        Assert.Empty(Share(3, 5, 3));
        Assert.Empty(Share(3, 5, 4));
    }

    [Fact]
    public void A_client_missing_from_the_list_gets_nothing()
    {
        Assert.Empty(Strategy.Allocate("g", "stranger", Queues(8), Clients(3)));
    }

    [Fact]
    public void No_queues_means_an_empty_share()
    {
        Assert.Empty(Strategy.Allocate("g", "c00", [], Clients(2)));
    }

    [Fact]
    public void The_shares_of_all_clients_cover_every_queue_exactly_once()
    {
        for (var queues = 1; queues <= 20; queues++)
        {
            for (var clients = 1; clients <= 12; clients++)
            {
                var all = Enumerable.Range(0, clients).SelectMany(i => Share(queues, clients, i)).ToList();
                Assert.True(Enumerable.Range(0, queues).SequenceEqual(all.Order()),
                    $"{queues} queues over {clients} clients were allocated as [{string.Join(",", all)}]");
                var sizes = Enumerable.Range(0, clients).Select(i => Share(queues, clients, i).Length).ToList();
                Assert.True(sizes.Max() - sizes.Min() <= 1, $"{queues} queues over {clients} clients: uneven shares {string.Join(",", sizes)}");
            }
        }
    }
}
