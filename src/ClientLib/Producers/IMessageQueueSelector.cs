using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// Chooses the queue of a send, as RocketMQ's MessageQueueSelector; used for ordered messages, where every
/// message of one business key (an order id) must go to the same queue.
/// </summary>
public interface IMessageQueueSelector
{
    /// <summary>Returns one of <paramref name="queues"/> (the topic's queues, sorted by id) for <paramref name="message"/>.</summary>
    /// <param name="queues">The topic's writable queues, sorted by id; never empty.</param>
    /// <param name="message">The message being sent.</param>
    /// <param name="arg">The argument given to <see cref="Producer.SendAsync(Message, IMessageQueueSelector, object?, CancellationToken)"/>.</param>
    MessageQueue Select(IReadOnlyList<MessageQueue> queues, Message message, object? arg);
}

/// <summary>
/// Selects the queue by a hash of <c>arg.ToString()</c> modulo the queue count, so equal args always land on
/// the same queue while the queue count is unchanged. The hash is Java's <c>String.hashCode</c> (stable across
/// processes and runs, unlike <see cref="string.GetHashCode()"/>), so a string key picks the same queue as
/// RocketMQ's Java <c>SelectMessageQueueByHash</c> would.
/// </summary>
public sealed class SelectMessageQueueByHash : IMessageQueueSelector
{
    /// <summary>A shared instance (the selector has no state).</summary>
    public static SelectMessageQueueByHash Instance { get; } = new();

    /// <inheritdoc />
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidArgument"/> when <paramref name="arg"/> is null.</exception>
    public MessageQueue Select(IReadOnlyList<MessageQueue> queues, Message message, object? arg)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var key = arg?.ToString() ?? throw new MQException(MQErrorCode.InvalidArgument,
            "SelectMessageQueueByHash needs a non-null arg to hash (e.g. the order id)");
        return queues[IndexOf(key, queues.Count)];
    }

    /// <summary>The queue index for a key: the non-negative stable hash modulo <paramref name="queueCount"/>.</summary>
    internal static int IndexOf(string key, int queueCount)
    {
        var index = StableHash(key) % queueCount;
        return index < 0 ? -index : index;
    }

    /// <summary>Java's <c>String.hashCode</c>: <c>s[0]*31^(n-1) + … + s[n-1]</c> over UTF-16 code units, wrapping.</summary>
    internal static int StableHash(string key)
    {
        var hash = 0;
        foreach (var c in key)
        {
            hash = unchecked((31 * hash) + c);
        }
        return hash;
    }
}

/// <summary>Selects a random queue for every send.</summary>
public sealed class SelectMessageQueueByRandom : IMessageQueueSelector
{
    /// <summary>A shared instance (the selector has no state).</summary>
    public static SelectMessageQueueByRandom Instance { get; } = new();

    /// <inheritdoc />
    public MessageQueue Select(IReadOnlyList<MessageQueue> queues, Message message, object? arg)
    {
        ArgumentNullException.ThrowIfNull(queues);
        return queues[Random.Shared.Next(queues.Count)];
    }
}
