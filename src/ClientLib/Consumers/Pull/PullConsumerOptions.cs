namespace OrleansMQ.Client;

/// <summary>Settings of a <see cref="PullConsumer"/>; the defaults match RocketMQ's DefaultLitePullConsumer except <see cref="AutoCommit"/>.</summary>
public sealed class PullConsumerOptions : ConsumerOptions
{
    /// <summary>
    /// Whether the position after what <see cref="PullConsumer.PollAsync"/> returned is committed automatically
    /// (on the next pull of the queue, when a queue is revoked, and on stop). Default false: call
    /// <see cref="PullConsumer.CommitAsync(CancellationToken)"/> after processing, so nothing unprocessed is committed.
    /// </summary>
    public bool AutoCommit { get; set; }
}
