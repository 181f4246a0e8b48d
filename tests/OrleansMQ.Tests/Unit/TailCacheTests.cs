using OrleansMQ.Grains.Queues;
using OrleansMQ.Messages;

namespace OrleansMQ.Tests.Unit;

public sealed class TailCacheTests
{
    private static MessageExt At(long offset) =>
        new("t", 0, offset, $"id{offset}", null, [], [1], null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0, null, null);

    private static IEnumerable<MessageExt> Range(long from, int count) => Enumerable.Range(0, count).Select(i => At(from + i));

    [Fact]
    public void Empty_cache_covers_nothing()
    {
        var cache = new TailCache(4);

        Assert.Equal(-1, cache.FirstOffset);
        Assert.Equal(0, cache.Count);
        Assert.False(cache.Covers(0));
        Assert.Empty(cache.Read(0, 10));
    }

    [Fact]
    public void Appended_messages_are_read_back_in_offset_order()
    {
        var cache = new TailCache(8);

        cache.Append(Range(10, 5));

        Assert.Equal((10L, 5), (cache.FirstOffset, cache.Count));
        Assert.True(cache.Covers(10));
        Assert.True(cache.Covers(14));
        Assert.False(cache.Covers(9));
        Assert.False(cache.Covers(15));
        Assert.Equal([11L, 12L, 13L], cache.Read(11, 3).Select(m => m.QueueOffset));
        Assert.Equal([13L, 14L], cache.Read(13, 100).Select(m => m.QueueOffset));
        Assert.Empty(cache.Read(15, 1));
    }

    [Fact]
    public void Full_cache_drops_the_oldest_messages_as_new_ones_arrive()
    {
        var cache = new TailCache(4);

        cache.Append(Range(0, 3));
        cache.Append(Range(3, 4));

        Assert.Equal((3L, 4), (cache.FirstOffset, cache.Count));
        Assert.False(cache.Covers(2));
        Assert.Equal([3L, 4L, 5L, 6L], cache.Read(3, 10).Select(m => m.QueueOffset));
        Assert.Equal(["id3", "id4", "id5", "id6"], cache.Read(3, 10).Select(m => m.MsgId));

        cache.Append(Range(7, 9));
        Assert.Equal((12L, 4), (cache.FirstOffset, cache.Count));
        Assert.Equal([12L, 13L, 14L, 15L], cache.Read(12, 10).Select(m => m.QueueOffset));
    }

    [Fact]
    public void A_gap_restarts_the_cache_at_the_new_messages()
    {
        var cache = new TailCache(8);
        cache.Append(Range(0, 5));

        cache.Append(Range(9, 2));

        Assert.Equal((9L, 2), (cache.FirstOffset, cache.Count));
        Assert.False(cache.Covers(4));
        Assert.Equal([9L, 10L], cache.Read(9, 10).Select(m => m.QueueOffset));
    }

    [Fact]
    public void Going_back_to_an_earlier_offset_restarts_the_cache_too()
    {
        var cache = new TailCache(8);
        cache.Append(Range(5, 3));

        cache.Append(Range(0, 2));

        Assert.Equal((0L, 2), (cache.FirstOffset, cache.Count));
        Assert.Equal(["id0", "id1"], cache.Read(0, 10).Select(m => m.MsgId));
    }

    [Fact]
    public void Clear_empties_the_cache()
    {
        var cache = new TailCache(4);
        cache.Append(Range(0, 4));

        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.False(cache.Covers(0));
        cache.Append(Range(4, 1));
        Assert.Equal((4L, 1), (cache.FirstOffset, cache.Count));
    }

    [Fact]
    public void Zero_capacity_caches_nothing()
    {
        var cache = new TailCache(0);

        cache.Append(Range(0, 3));

        Assert.Equal(0, cache.Count);
        Assert.False(cache.Covers(0));
        Assert.Empty(cache.Read(0, 3));
    }
}
