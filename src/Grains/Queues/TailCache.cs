using OrleansMQ.Messages;

namespace OrleansMQ.Grains.Queues;

/// <summary>
/// The newest committed messages of one queue, contiguous by offset, so consumers that keep up are
/// served from memory. A ring bounded by count; the oldest fall off as new ones arrive.
/// </summary>
internal sealed class TailCache(int capacity)
{
    private readonly MessageExt[] _ring = new MessageExt[capacity];
    private long _first = -1;
    private int _count;

    /// <summary>Offset of the oldest cached message, or -1 when empty.</summary>
    public long FirstOffset => _count == 0 ? -1 : _first;

    public int Count => _count;

    /// <summary>Adds committed messages; they must follow the cached ones without a gap, else the cache restarts at them.</summary>
    public void Append(IEnumerable<MessageExt> messages)
    {
        if (capacity == 0) return;
        foreach (var message in messages)
        {
            if (_count > 0 && message.QueueOffset != _first + _count)
            {
                _count = 0;
            }
            if (_count == 0)
            {
                _first = message.QueueOffset;
            }
            _ring[message.QueueOffset % capacity] = message;
            if (_count == capacity)
            {
                _first++;
            }
            else
            {
                _count++;
            }
        }
    }

    /// <summary>Whether <paramref name="offset"/> is cached.</summary>
    public bool Covers(long offset) => _count > 0 && offset >= _first && offset < _first + _count;

    /// <summary>Up to <paramref name="maxCount"/> cached messages from <paramref name="offset"/> on.</summary>
    public IReadOnlyList<MessageExt> Read(long offset, int maxCount)
    {
        if (!Covers(offset)) return [];
        var n = (int)Math.Min(maxCount, _first + _count - offset);
        var result = new MessageExt[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = _ring[(offset + i) % capacity];
        }
        return result;
    }

    public void Clear() => _count = 0;
}
