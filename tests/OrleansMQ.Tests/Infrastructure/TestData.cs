using System.Text;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Topics;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>Names and messages for tests: every test owns its names, so tests never see each other's data.</summary>
public static class TestData
{
    /// <summary>A topic or group name no other test uses (valid under RocketMQ's naming rule).</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static MessageData Message(
        string body,
        string? tag = null,
        IReadOnlyList<string>? keys = null,
        IReadOnlyDictionary<string, string>? properties = null,
        DateTimeOffset? bornAt = null) =>
        new(MessageIds.NewId(), tag, keys ?? [], Encoding.UTF8.GetBytes(body), properties, bornAt ?? DateTimeOffset.UtcNow, "test-host", "test-producer");

    public static MessageData WithBody(byte[] body) =>
        new(MessageIds.NewId(), null, [], body, null, DateTimeOffset.UtcNow, "test-host", "test-producer");

    public static AppendRequest Batch(params MessageData[] messages) => new(messages);

    public static ITopicGrain Topic(this IGrainFactory grains, string topic) => grains.GetGrain<ITopicGrain>(topic);

    public static IQueueGrain Queue(this IGrainFactory grains, string topic, int queueId) => grains.GetGrain<IQueueGrain>(queueId, topic);

    /// <summary>Creates a topic with a unique name and returns the name.</summary>
    public static async Task<string> CreateTopicAsync(this IGrainFactory grains, string prefix, int queues = 4)
    {
        var name = UniqueName(prefix);
        await grains.Topic(name).Create(new TopicConfig(name, queues));
        return name;
    }

    /// <summary>Appends <paramref name="count"/> messages one call each; returns them in offset order.</summary>
    public static async Task<IReadOnlyList<MessageData>> AppendAsync(this IQueueGrain queue, int count, string bodyPrefix = "m", string? tag = null)
    {
        var sent = new List<MessageData>();
        for (var i = 0; i < count; i++)
        {
            var message = Message($"{bodyPrefix}-{i}", tag);
            await queue.Append(Batch(message));
            sent.Add(message);
        }
        return sent;
    }

    public static string BodyText(this MessageData message) => Encoding.UTF8.GetString(message.Body);

    /// <summary>A timestamp as Postgres stores it (microseconds).</summary>
    public static DateTimeOffset ToMicroseconds(this DateTimeOffset value) =>
        new(value.Ticks - value.Ticks % 10, value.Offset);

    /// <summary>Deactivates the grain through the management grain and waits until no silo holds an activation of it.</summary>
    public static async Task DeactivateAsync(this IGrainFactory grains, IAddressable grain)
    {
        var id = grain.GetGrainId();
        var management = grains.GetGrain<IManagementGrain>(0);
        Assert.Equal(1, (await management.GetDetailedGrainStatistics()).Count(s => s.GrainId == id));
        // Through the grain's own reference, so the request reaches the activation itself (the management grain's
        // DeactivateGrain goes through the directory and sometimes never took effect on a loaded machine).
        await grain.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        await Eventually.PollAsync(
            async () => (await management.GetDetailedGrainStatistics()).Count(s => s.GrainId == id),
            activations => activations == 0,
            TimeSpan.FromSeconds(30),
            $"{id} to be deactivated");
    }

    /// <summary>The consumer's assigned queues without its group's retry topic (which every clustering consumer also subscribes to).</summary>
    public static IReadOnlyList<MessageQueue> TopicQueues(this OrleansMQ.Client.PushConsumer consumer) =>
        [.. consumer.Assignment.Where(q => !OrleansMQ.Retry.RetryRules.IsRetryTopic(q.Topic))];
}
