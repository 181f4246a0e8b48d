namespace OrleansMQ.Messages;

/// <summary>One queue of a topic, as RocketMQ's MessageQueue (the broker name is implied: any silo serves it).</summary>
[GenerateSerializer, Immutable]
public sealed record MessageQueue([property: Id(0)] string Topic, [property: Id(1)] int QueueId) : IComparable<MessageQueue>
{
    public int CompareTo(MessageQueue? other)
    {
        if (other is null) return 1;
        var byTopic = string.CompareOrdinal(Topic, other.Topic);
        return byTopic != 0 ? byTopic : QueueId.CompareTo(other.QueueId);
    }

    public override string ToString() => $"{Topic}:{QueueId}";
}
