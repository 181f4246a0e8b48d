using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Queues;

/// <summary>
/// Rows a catch-up pull read from Postgres beyond what it returned, kept for the same reader's next pull. A consumer
/// draining a backlog 32 messages at a time then costs one query per few hundred messages instead of one per pull:
/// a queue's rows share heap pages with the other queues' rows of the same group commits, and every query pays its
/// own executor start and round trip.
/// </summary>
/// <remarks>
/// Bounded by bytes (at the average size of the messages read so far) and by <see cref="MaxWindows"/> windows, one
/// per reader position, least recently used dropped first; a window goes once read to its end. Committed rows never
/// change, so a window stays right until the queue reloads (<see cref="Clear"/>).
/// </remarks>
internal sealed class ReadAhead(long maxBytes)
{
    /// <summary>Readers at different positions (consumer groups catching up) each keep a window; more are dropped.</summary>
    public const int MaxWindows = 2;

    /// <summary>Most rows one read asks for.</summary>
    public const int MaxRowsPerRead = 256;

    private readonly List<Window> _windows = new(MaxWindows);
    // Until a read shows how big this queue's messages are, read only what is asked for.
    private long _averageBytes = Math.Max(1, maxBytes);

    /// <summary>Up to <paramref name="maxCount"/> kept messages from <paramref name="offset"/> on, or null when none are kept there.</summary>
    public IReadOnlyList<MessageExt>? TryRead(long offset, int maxCount)
    {
        for (var i = 0; i < _windows.Count; i++)
        {
            var window = _windows[i];
            var index = offset - window.First;
            if (index < 0 || index >= window.Rows.Count) continue;
            var n = (int)Math.Min(maxCount, window.Rows.Count - index);
            var slice = new MessageExt[n];
            for (var k = 0; k < n; k++) slice[k] = window.Rows[(int)index + k];
            _windows.RemoveAt(i);
            if (index + n < window.Rows.Count)
            {
                _windows.Add(window); // most recently used last
            }
            return slice;
        }
        return null;
    }

    /// <summary>How many rows to read when <paramref name="want"/> are needed: as many as the byte budget holds, at least <paramref name="want"/>.</summary>
    public int ReadSize(int want) =>
        maxBytes <= 0 ? want : (int)Math.Clamp(maxBytes / Math.Max(_averageBytes, 1), want, Math.Max(want, MaxRowsPerRead));

    /// <summary>Keeps what a read returned beyond the first <paramref name="want"/> rows, and returns those.</summary>
    public IReadOnlyList<MessageExt> Keep(IReadOnlyList<MessageExt> rows, int want)
    {
        if (rows.Count == 0) return rows;
        var bytes = 0L;
        foreach (var row in rows) bytes += MessageRules.SizeOf(row);
        _averageBytes = Math.Max(1, bytes / rows.Count);
        if (rows.Count <= want || maxBytes <= 0) return rows;

        var rest = rows.Skip(want).ToArray();
        // Offsets within a queue are contiguous; a window that is not (a range cut by retention) is not kept.
        if (rest[^1].QueueOffset - rest[0].QueueOffset == rest.Length - 1)
        {
            if (_windows.Count == MaxWindows) _windows.RemoveAt(0);
            _windows.Add(new Window(rest[0].QueueOffset, rest));
        }
        return rows.Take(want).ToArray();
    }

    public void Clear() => _windows.Clear();

    private sealed record Window(long First, IReadOnlyList<MessageExt> Rows);
}
