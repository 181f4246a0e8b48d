using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Topics;
using OrleansMQ.Validation;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

/// <summary>Every entry point refuses bad input with a typed error, and what was stored stays as it was.</summary>
[Collection(BrokerCollection.Name)]
public sealed class BadInputTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    public static TheoryData<string, MQErrorCode> BadMessages => new()
    {
        { "empty body", MQErrorCode.EmptyBody },
        { "body over 4 MiB", MQErrorCode.BodyTooLarge },
        { "properties over 32 KiB", MQErrorCode.InvalidProperties },
        { "tag with ||", MQErrorCode.InvalidTag },
        { "key with a space", MQErrorCode.InvalidKeys },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task Append_of_a_bad_message_fails_with_its_error_code_and_stores_nothing(string what, MQErrorCode expected)
    {
        var topic = await _grains.CreateTopicAsync("bad-message", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(2);
        var bad = what switch
        {
            "empty body" => WithBody([]),
            "body over 4 MiB" => WithBody(new byte[Limits.DefaultMaxBodyBytes + 1]),
            "properties over 32 KiB" => Message("p", properties: new Dictionary<string, string> { ["big"] = new('x', Limits.MaxPropertiesBytes) }),
            "tag with ||" => Message("t", tag: "a||b"),
            "key with a space" => Message("k", keys: ["order 1"]),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        var alone = await Assert.ThrowsAsync<MQException>(() => queue.Append(Batch(bad)));
        var inBatch = await Assert.ThrowsAsync<MQException>(() => queue.Append(Batch(Message("good"), bad)));

        Assert.Equal(expected, alone.Code);
        Assert.Equal(expected, inBatch.Code);
        Assert.False(alone.IsRetryable);
        Assert.Equal(2, await _db.CountMessagesAsync(topic));
        Assert.Equal(2, (await queue.GetStatus()).MaxOffset);
        Assert.Equal(2, (await queue.Append(Batch(Message("still works")))).FirstOffset);
    }

    [Fact]
    public async Task Body_of_exactly_the_maximum_size_is_accepted()
    {
        var topic = await _grains.CreateTopicAsync("max-body", queues: 1);

        var result = await _grains.Queue(topic, 0).Append(Batch(WithBody(new byte[Limits.DefaultMaxBodyBytes])));

        Assert.Equal(0, result.FirstOffset);
        Assert.Equal(1, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task Empty_append_fails_with_InvalidBatch()
    {
        var topic = await _grains.CreateTopicAsync("empty-batch", queues: 1);

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Append(new AppendRequest([])));

        Assert.Equal(MQErrorCode.InvalidBatch, e.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
    }

    [Theory]
    [InlineData("a b", MQErrorCode.InvalidTopicName)]
    [InlineData("topic!", MQErrorCode.InvalidTopicName)]
    [InlineData("long", MQErrorCode.InvalidTopicName)]
    [InlineData("%RETRY%x", MQErrorCode.ReservedName)]
    [InlineData("%DLQ%x", MQErrorCode.ReservedName)]
    [InlineData("TBW102", MQErrorCode.ReservedName)]
    public async Task Creating_a_topic_with_a_bad_name_fails_with_a_typed_error_and_stores_nothing(string name, MQErrorCode expected)
    {
        if (name == "long") name = new string('t', Limits.MaxNameLength + 1);

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).Create(new TopicConfig(name, 4)));

        Assert.Equal(expected, e.Code);
        Assert.Equal(0, await _db.CountTopicRowsAsync(name));
    }

    [Fact]
    public async Task Topic_name_of_exactly_127_characters_is_accepted()
    {
        var name = UniqueName("x").PadRight(Limits.MaxNameLength, 'x');

        var created = await _grains.Topic(name).Create(new TopicConfig(name, 1));

        Assert.Equal(name, created.Name);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Limits.MaxQueues + 1)]
    public async Task Creating_a_topic_with_a_bad_queue_count_fails_with_InvalidArgument(int queues)
    {
        var name = UniqueName("bad-queues");

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).Create(new TopicConfig(name, queues)));

        Assert.Equal(MQErrorCode.InvalidArgument, e.Code);
        Assert.Equal(0, await _db.CountTopicRowsAsync(name));
    }

    [Fact]
    public async Task Unknown_topic_without_autoCreate_fails_with_TopicNotFound_and_is_not_created()
    {
        var name = UniqueName("unknown");

        var route = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).GetRoute(autoCreate: false));
        var append = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(name, 0).Append(Batch(Message("x"))));
        var pull = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(name, 0).Pull(new PullRequest("g", 0)));

        Assert.Equal(MQErrorCode.TopicNotFound, route.Code);
        Assert.Equal(MQErrorCode.TopicNotFound, append.Code);
        Assert.Equal(MQErrorCode.TopicNotFound, pull.Code);
        Assert.Null(await _grains.Topic(name).GetConfig());
        Assert.Equal(0, await _db.CountTopicRowsAsync(name));
        Assert.Equal(0, await _db.CountMessagesAsync(name));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(-1)]
    public async Task Queue_id_outside_the_topic_fails_with_QueueNotFound(int queueId)
    {
        var topic = await _grains.CreateTopicAsync("bad-queue", queues: 4);

        var append = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, queueId).Append(Batch(Message("x"))));
        var pull = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, queueId).Pull(new PullRequest("g", 0)));
        var commit = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, queueId).CommitOffset("g", 0, flush: true));

        Assert.Equal(MQErrorCode.QueueNotFound, append.Code);
        Assert.Equal(MQErrorCode.QueueNotFound, pull.Code);
        Assert.Equal(MQErrorCode.QueueNotFound, commit.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
        Assert.Equal(0, await _db.CountConsumerOffsetsAsync(topic));
    }

    [Fact]
    public async Task Invalid_group_in_pull_or_commit_fails_with_InvalidGroupName_and_commits_nothing()
    {
        var topic = await _grains.CreateTopicAsync("bad-group", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(3);

        var pull = await Assert.ThrowsAsync<MQException>(() => queue.Pull(new PullRequest("bad group!", 0, CommitOffset: 2)));
        var commit = await Assert.ThrowsAsync<MQException>(() => queue.CommitOffset("bad group!", 2, flush: true));
        var read = await Assert.ThrowsAsync<MQException>(() => queue.GetCommittedOffset("bad group!"));
        var empty = await Assert.ThrowsAsync<MQException>(() => queue.CommitOffset("", 2, flush: true));

        Assert.Equal(MQErrorCode.InvalidGroupName, pull.Code);
        Assert.Equal(MQErrorCode.InvalidGroupName, commit.Code);
        Assert.Equal(MQErrorCode.InvalidGroupName, read.Code);
        Assert.Equal(MQErrorCode.InvalidGroupName, empty.Code);
        Assert.Equal(0, await _db.CountConsumerOffsetsAsync(topic));
    }

    [Theory]
    [InlineData("a ||")]
    [InlineData("|| a")]
    [InlineData("a | b")]
    [InlineData("a b")]
    public async Task Malformed_tag_expression_fails_with_InvalidFilterExpression_and_commits_nothing(string expression)
    {
        var topic = await _grains.CreateTopicAsync("bad-filter", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(3);
        var group = UniqueName("g");

        var e = await Assert.ThrowsAsync<MQException>(() => queue.Pull(new PullRequest(group, 0, TagExpression: expression, CommitOffset: 2)));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, e.Code);
        Assert.Equal(-1, await queue.GetCommittedOffset(group));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public async Task Pull_with_maxMessages_out_of_range_fails_with_InvalidArgument(int maxMessages)
    {
        var topic = await _grains.CreateTopicAsync("bad-max", queues: 1);

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Pull(new PullRequest("g", 0, MaxMessages: maxMessages)));

        Assert.Equal(MQErrorCode.InvalidArgument, e.Code);
    }

    [Fact]
    public async Task Batch_over_the_batch_limit_fails_with_InvalidBatch_and_stores_nothing()
    {
        var topic = await _grains.CreateTopicAsync("big-batch", queues: 1);
        var half = Limits.DefaultMaxBatchBytes / 2;

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Append(Batch(WithBody(new byte[half]), WithBody(new byte[half]), WithBody([1]))));

        Assert.Equal(MQErrorCode.InvalidBatch, e.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(topic));
    }

    [Fact]
    public async Task Append_to_a_read_only_topic_is_refused_and_pulls_still_work()
    {
        var name = UniqueName("read-only");
        await _grains.Topic(name).Create(new TopicConfig(name, 1, TopicPermission.Read));

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(name, 0).Append(Batch(Message("x"))));
        var pull = await _grains.Queue(name, 0).Pull(new PullRequest("g", 0));

        Assert.Equal(MQErrorCode.InvalidArgument, e.Code);
        Assert.Equal(PullStatus.NoNewMessage, pull.Status);
        Assert.Equal(0, await _db.CountMessagesAsync(name));
    }

    [Theory]
    [InlineData("a b", MQErrorCode.InvalidTopicName)]
    [InlineData("TBW102", MQErrorCode.ReservedName)]
    [InlineData("OFFSET_MOVED_EVENT", MQErrorCode.ReservedName)]
    public async Task Auto_creating_a_topic_with_a_bad_name_fails_with_a_typed_error_and_stores_nothing(string name, MQErrorCode expected)
    {
        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).GetRoute(autoCreate: true));

        Assert.Equal(expected, e.Code);
        Assert.Equal(0, await _db.CountTopicRowsAsync(name));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Pull_with_a_non_positive_maxBytes_fails_with_InvalidArgument(int maxBytes)
    {
        var topic = await _grains.CreateTopicAsync("bad-max-bytes", queues: 1);
        await _grains.Queue(topic, 0).AppendAsync(3);

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(topic, 0).Pull(new PullRequest("g", 0, MaxBytes: maxBytes)));

        Assert.Equal(MQErrorCode.InvalidArgument, e.Code);
    }
}
