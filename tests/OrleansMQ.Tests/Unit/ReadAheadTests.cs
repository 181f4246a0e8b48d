using OrleansMQ.Grains.Queues;
using OrleansMQ.Messages;

namespace OrleansMQ.Tests.Unit;

public sealed class ReadAheadTests
{
    [Fact]
    public void Until_a_read_shows_the_message_size_only_what_is_asked_for_is_read_then_as_many_as_the_budget_holds()
    {
        var readAhead = new ReadAhead(maxBytes: 64 * 1024);
        Assert.Equal(32, readAhead.ReadSize(32));

        readAhead.Keep(Rows(0, 32, bodyBytes: 1024), want: 32);

        Assert.Equal(64, readAhead.ReadSize(32)); // 64 KiB at 1 KiB per message
        readAhead.Keep(Rows(32, 32, bodyBytes: 1024 * 1024), want: 32);
        Assert.Equal(32, readAhead.ReadSize(32)); // big messages: never below what is asked for
        Assert.Equal(ReadAhead.MaxRowsPerRead, new ReadAhead(1L << 40).ReadSizeAfter(Rows(0, 4, 10), 32));
    }

    [Fact]
    public void Rows_beyond_what_was_asked_are_served_to_the_next_pull_then_dropped_once_read()
    {
        var readAhead = new ReadAhead(maxBytes: 1 << 20);

        var first = readAhead.Keep(Rows(100, 20, 10), want: 8);
        var second = readAhead.TryRead(108, 5);
        var third = readAhead.TryRead(113, 50);
        var none = readAhead.TryRead(120, 5);

        Assert.Equal(Offsets(100, 8), first.Select(m => m.QueueOffset));
        Assert.Equal(Offsets(108, 5), second!.Select(m => m.QueueOffset));
        Assert.Equal(Offsets(113, 7), third!.Select(m => m.QueueOffset));
        Assert.Null(none);
        Assert.Null(readAhead.TryRead(115, 1)); // read to its end: gone
    }

    [Fact]
    public void Two_reader_positions_are_kept_and_a_third_drops_the_least_recently_used()
    {
        var readAhead = new ReadAhead(maxBytes: 1 << 20);
        readAhead.Keep(Rows(0, 20, 10), want: 5);      // window 5..19
        readAhead.Keep(Rows(100, 20, 10), want: 5);    // window 105..119
        Assert.NotNull(readAhead.TryRead(5, 2));       // 5..19 used last

        readAhead.Keep(Rows(200, 20, 10), want: 5);    // evicts 105..119

        Assert.Null(readAhead.TryRead(105, 1));
        Assert.NotNull(readAhead.TryRead(7, 1));
        Assert.NotNull(readAhead.TryRead(205, 1));
    }

    [Fact]
    public void A_read_that_is_not_contiguous_is_not_kept_a_zero_budget_keeps_nothing_and_clear_forgets()
    {
        var gap = Rows(0, 5, 10).Concat(Rows(10, 5, 10)).ToArray();
        var readAhead = new ReadAhead(maxBytes: 1 << 20);
        var off = new ReadAhead(maxBytes: 0);

        readAhead.Keep(gap, want: 3);
        off.Keep(Rows(0, 10, 10), want: 3);

        Assert.Null(readAhead.TryRead(3, 1));
        Assert.Null(off.TryRead(3, 1));
        Assert.Equal(3, off.ReadSize(3));
        readAhead.Keep(Rows(0, 10, 10), want: 3);
        readAhead.Clear();
        Assert.Null(readAhead.TryRead(3, 1));
    }

    private static IEnumerable<long> Offsets(long first, int count) => Enumerable.Range(0, count).Select(i => first + i);

    private static MessageExt[] Rows(long first, int count, int bodyBytes) =>
        [.. Enumerable.Range(0, count).Select(i => new MessageExt("T", 0, first + i, $"id{first + i}", null, [], new byte[bodyBytes], null,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0, null, null))];
}

internal static class ReadAheadTestExtensions
{
    public static int ReadSizeAfter(this ReadAhead readAhead, MessageExt[] rows, int want)
    {
        readAhead.Keep(rows, rows.Length);
        return readAhead.ReadSize(want);
    }
}
