using System.Buffers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansMQ.Messages;
using OrleansMQ.Queues;

namespace OrleansMQ.Tests.Unit;

/// <summary>The one-field-per-message codecs give back exactly what they were given, through Orleans' serializer.</summary>
public sealed class MessageCodecTests
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(MessageData).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static readonly DateTimeOffset Born = new(2026, 11, 25, 9, 30, 1, 123, TimeSpan.FromHours(8));

    private static MessageData Full(int i) => new(
        $"MSG{i:D28}", "créé", ["order-42", "客户-7"], Encoding.UTF8.GetBytes($"body {i} ✓"),
        new Dictionary<string, string> { ["region"] = "eu", ["__SHARDINGKEY"] = "g-1", ["empty"] = "" },
        Born.AddTicks(i), "10.0.0.1", "shop", 3);

    private static MessageData Bare() => new("MSG-bare", null, [], [0], null, DateTimeOffset.UnixEpoch, null, null);

    private static MessageExt Stored(MessageData m, long offset) => new(
        "Orders", 7, offset, m.MsgId, m.Tag, m.Keys, m.Body, m.Properties, m.BornAt, Born.ToUniversalTime().AddSeconds(offset),
        m.ReconsumeTimes, m.ProducerGroup, m.BornHost);

    private static void AssertSame(MessageData expected, MessageData actual)
    {
        Assert.Equal((expected.MsgId, expected.Tag, expected.BornAt, expected.BornAt.Offset, expected.BornHost, expected.ProducerGroup, expected.ReconsumeTimes),
            (actual.MsgId, actual.Tag, actual.BornAt, actual.BornAt.Offset, actual.BornHost, actual.ProducerGroup, actual.ReconsumeTimes));
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.Equal(expected.Body, actual.Body);
        Assert.Equal(expected.Properties?.OrderBy(p => p.Key), actual.Properties?.OrderBy(p => p.Key));
    }

    [Fact]
    public void Messages_with_every_field_and_with_none_round_trip()
    {
        foreach (var message in new[] { Full(1), Bare() })
        {
            AssertSame(message, Serializer.Deserialize<MessageData>(Serializer.SerializeToArray(message))!);
        }
    }

    [Fact]
    public void A_pull_result_of_many_messages_round_trips_and_a_repeated_message_stays_one_object()
    {
        var stored = Enumerable.Range(0, 200).Select(i => Stored(i % 2 == 0 ? Full(i) : Bare(), i)).ToList();
        stored.Add(stored[5]);
        var result = new PullResult(PullStatus.Found, stored, 200, 0, 200);

        var copy = Serializer.Deserialize<PullResult>(Serializer.SerializeToArray(result))!;

        Assert.Equal(stored.Count, copy.Messages.Count);
        for (var i = 0; i < 200; i++)
        {
            var (expected, actual) = (stored[i], copy.Messages[i]);
            Assert.Equal((expected.Topic, expected.QueueId, expected.QueueOffset, expected.StoredAt, expected.MsgId, expected.Tag, expected.BornAt, expected.ReconsumeTimes, expected.ProducerGroup, expected.BornHost),
                (actual.Topic, actual.QueueId, actual.QueueOffset, actual.StoredAt, actual.MsgId, actual.Tag, actual.BornAt, actual.ReconsumeTimes, actual.ProducerGroup, actual.BornHost));
            Assert.Equal(expected.Keys, actual.Keys);
            Assert.Equal(expected.Body, actual.Body);
            Assert.Equal(expected.Properties?.OrderBy(p => p.Key), actual.Properties?.OrderBy(p => p.Key));
        }
        Assert.Same(copy.Messages[5], copy.Messages[200]);
    }

    [Fact]
    public void A_large_body_split_over_buffer_segments_round_trips()
    {
        var body = new byte[300_000];
        new Random(7).NextBytes(body);
        var message = Full(2) with { Body = body };
        var bytes = Serializer.SerializeToArray(new AppendRequest([message, Bare()]));

        var copy = Serializer.Deserialize<AppendRequest>(Segmented(bytes, 4096))!;

        AssertSame(message, copy.Messages[0]);
        AssertSame(Bare(), copy.Messages[1]);
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var chunk = bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
