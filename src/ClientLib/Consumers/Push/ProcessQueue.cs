using OrleansMQ.Validation;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// The push consumer's cache of one queue, as RocketMQ's ProcessQueue: messages pulled and not yet consumed,
/// sorted by offset, with their count and size for flow control.
/// <para>
/// The offset to commit is the smallest offset still cached, or the next offset to pull when nothing is: a
/// message that is not yet consumed (in a listener, waiting for one, or waiting to be redelivered after
/// ReconsumeLater) pins the committed offset below itself, so a crash or rebalance can duplicate messages
/// consumed after it but never lose it. Messages a filter skipped are beyond the next offset and so are passed.
/// </para>
/// </summary>
internal sealed class ProcessQueue
{
    private readonly object _gate = new();
    private readonly SortedDictionary<long, MessageExt> _messages = new();
    private long _bytes;
    private long _nextOffset = -1;
    private long _lastCommittedOffset = -1;
    private int _consuming;
    private bool _dropped;
    private TaskCompletionSource? _idle;

    public ProcessQueue(MessageQueue queue) => Queue = queue;

    public MessageQueue Queue { get; }

    /// <summary>Where the next pull starts; -1 until the start offset is known.</summary>
    public long NextOffset
    {
        get { lock (_gate) return _nextOffset; }
    }

    /// <summary>Whether the start offset is known.</summary>
    public bool IsStarted => NextOffset >= 0;

    /// <summary>Messages cached and not yet consumed.</summary>
    public int Count
    {
        get { lock (_gate) return _messages.Count; }
    }

    /// <summary>Bytes (bodies plus properties) of the cached messages.</summary>
    public long Bytes
    {
        get { lock (_gate) return _bytes; }
    }

    /// <summary>Whether the queue was revoked or the consumer stopped: no more pulls, no more listener invocations.</summary>
    public bool IsDropped
    {
        get { lock (_gate) return _dropped; }
    }

    /// <summary>The offset the broker last acknowledged as committed for this queue (-1: none yet).</summary>
    public long LastCommittedOffset
    {
        get => Interlocked.Read(ref _lastCommittedOffset);
        set => Interlocked.Exchange(ref _lastCommittedOffset, value);
    }

    /// <summary>
    /// The offset to commit: the smallest cached offset, or <see cref="NextOffset"/> when nothing is cached
    /// (-1 before the start offset is known).
    /// </summary>
    public long OffsetToCommit
    {
        get
        {
            lock (_gate)
            {
                if (_messages.Count > 0)
                {
                    foreach (var offset in _messages.Keys)
                    {
                        return offset;
                    }
                }
                return _nextOffset;
            }
        }
    }

    /// <summary>Whether pulling should pause (RocketMQ's pullThresholdForQueue / pullThresholdSizeForQueue).</summary>
    public bool IsOverThreshold(int maxMessages, long maxBytes)
    {
        lock (_gate)
        {
            return _messages.Count >= maxMessages || _bytes >= maxBytes;
        }
    }

    /// <summary>Sets the start offset (or moves the pull position after OffsetIllegal / a filtered or empty pull).</summary>
    public void AdvanceTo(long nextOffset)
    {
        lock (_gate)
        {
            _nextOffset = nextOffset;
        }
    }

    /// <summary>
    /// Caches pulled messages and moves the pull position to <paramref name="nextBeginOffset"/>; returns the ones
    /// that were not cached already (to hand to the listeners).
    /// </summary>
    public IReadOnlyList<MessageExt> PutMessages(IReadOnlyList<MessageExt> messages, long nextBeginOffset)
    {
        var added = new List<MessageExt>(messages.Count);
        lock (_gate)
        {
            foreach (var message in messages)
            {
                if (_messages.TryAdd(message.QueueOffset, message))
                {
                    _bytes += MessageRules.SizeOf(message);
                    added.Add(message);
                }
            }
            _nextOffset = nextBeginOffset;
        }
        return added;
    }

    /// <summary>The first <paramref name="max"/> cached messages in offset order (an orderly consumer's next batch); not removed.</summary>
    public IReadOnlyList<MessageExt> PeekFirst(int max)
    {
        lock (_gate)
        {
            return [.. _messages.Values.Take(max)];
        }
    }

    /// <summary>Forgets consumed messages; returns the new <see cref="OffsetToCommit"/>.</summary>
    public long RemoveMessages(IEnumerable<MessageExt> consumed)
    {
        lock (_gate)
        {
            foreach (var message in consumed)
            {
                if (_messages.Remove(message.QueueOffset, out var cached))
                {
                    _bytes -= MessageRules.SizeOf(cached);
                }
            }
        }
        return OffsetToCommit;
    }

    /// <summary>Marks the queue dropped. Listener invocations already running finish; see <see cref="WhenNoListenersAsync"/>.</summary>
    public void Drop()
    {
        lock (_gate)
        {
            _dropped = true;
        }
    }

    /// <summary>Counts a listener invocation on this queue's messages; false (and nothing counted) when the queue is dropped.</summary>
    public bool TryBeginConsume()
    {
        lock (_gate)
        {
            if (_dropped)
            {
                return false;
            }
            _consuming++;
            return true;
        }
    }

    /// <summary>Ends an invocation counted by <see cref="TryBeginConsume"/>.</summary>
    public void EndConsume()
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (--_consuming == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }
        idle?.TrySetResult();
    }

    /// <summary>Completes when no listener invocation is running on this queue's messages.</summary>
    public Task WhenNoListenersAsync()
    {
        lock (_gate)
        {
            if (_consuming == 0)
            {
                return Task.CompletedTask;
            }
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }
}
