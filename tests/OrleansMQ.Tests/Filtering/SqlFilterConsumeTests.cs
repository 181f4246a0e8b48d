using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Filtering;

/// <summary>
/// SQL92 filters end to end on the shared test cluster: the broker returns exactly the matching messages, offsets
/// move past the others (so the group ends without lag), and a malformed expression is refused before anything is sent.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class SqlFilterConsumeTests(BrokerClusterFixture fixture)
{
    /// <summary>Only a guard against a hang; never a claim about speed.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private const string Sql = "amount > 100 AND region IN ('eu', 'us')";

    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    /// <summary>Properties of the i-th message: amount 0, 50, 100, …; region by turns; every fifth has none at all.</summary>
    private static Dictionary<string, string> PropertiesOf(int i) => i % 5 == 4
        ? []
        : new() { ["amount"] = (i * 50 % 400).ToString(), ["region"] = new[] { "eu", "us", "asia" }[i % 3] };

    private static bool MatchesSql(int i) =>
        PropertiesOf(i) is { Count: > 0 } p && int.Parse(p["amount"]) > 100 && p["region"] is "eu" or "us";

    private static string TagOf(int i) => i % 2 == 0 ? "even" : "odd";

    private static PushConsumerOptions PushOptions(string group) => Client.PushConsumerTests.Options(group);

    /// <summary>A topic with <paramref name="count"/> messages "m{i}" tagged and with properties as above.</summary>
    private async Task<(string Topic, List<SendResult> Sent)> TopicWithMessagesAsync(string prefix, int count, int queues = 2)
    {
        var topic = UniqueName(prefix);
        await _admin.CreateTopicAsync(topic, queues);
        await using var producer = new Producer(_grains);
        var sent = new List<SendResult>();
        for (var i = 0; i < count; i++)
        {
            sent.Add(await producer.SendAsync(new Message(topic, $"m{i}") { Tag = TagOf(i), Properties = PropertiesOf(i) }));
        }
        return (topic, sent);
    }

    private static async Task<ConcurrentQueue<MessageExt>> StartPushAsync(PushConsumer consumer, string topic, MessageSelector selector)
    {
        var received = new ConcurrentQueue<MessageExt>();
        consumer.Subscribe(topic, selector);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            foreach (var message in messages) received.Enqueue(message);
            return Task.FromResult(ConsumeResult.Success);
        });
        await consumer.StartAsync();
        return received;
    }

    private Task WaitForNoLagAsync(string group, string topic, int queues) =>
        Eventually.PollAsync(() => _admin.GetGroupProgressAsync(group),
            p => p.Count(q => q.Topic == topic) == queues && p.Where(q => q.Topic == topic).All(q => q.Lag == 0), Guard, $"group {group} to have no lag on {topic}");

    [Fact]
    public async Task Pull_with_an_SQL_filter_returns_only_matching_messages_and_advances_past_the_others()
    {
        var topic = await _grains.CreateTopicAsync("sql-pull", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.Append(new AppendRequest([.. Enumerable.Range(0, 12).Select(i => Message($"m{i}", TagOf(i), properties: PropertiesOf(i)))]));

        var all = await queue.Pull(new PullRequest("sql-group", 0, TagExpression: Sql, ExpressionType: ExpressionType.Sql92));
        var none = await queue.Pull(new PullRequest("sql-group", 0, TagExpression: "amount > 1000", ExpressionType: ExpressionType.Sql92));
        var withTags = await queue.Pull(new PullRequest("sql-group", 0, TagExpression: "TAGS = 'odd' AND amount IS NOT NULL", ExpressionType: ExpressionType.Sql92));

        Assert.Equal(PullStatus.Found, all.Status);
        Assert.Equal(Enumerable.Range(0, 12).Where(MatchesSql).Select(i => $"m{i}"), all.Messages.Select(m => m.BodyAsString()));
        Assert.Equal(12, all.NextBeginOffset);
        Assert.Equal(PullStatus.NoMatchedMessage, none.Status);
        Assert.Empty(none.Messages);
        Assert.Equal(12, none.NextBeginOffset);
        Assert.Equal(Enumerable.Range(0, 12).Where(i => i % 2 == 1 && i % 5 != 4).Select(i => $"m{i}"), withTags.Messages.Select(m => m.BodyAsString()));
    }

    [Fact]
    public async Task A_malformed_SQL_filter_in_a_pull_or_a_heartbeat_is_refused_with_InvalidFilterExpression()
    {
        var topic = await _grains.CreateTopicAsync("sql-bad", queues: 1);
        var queue = _grains.Queue(topic, 0);
        await queue.AppendAsync(2);
        var group = _grains.GetGrain<IConsumerGroupGrain>(UniqueName("g"));

        var pull = await Assert.ThrowsAsync<MQException>(() => queue.Pull(new PullRequest("sql-bad-group", 0, TagExpression: "a >", ExpressionType: ExpressionType.Sql92, CommitOffset: 2)));
        var heartbeat = await Assert.ThrowsAsync<MQException>(() => group.Heartbeat(new ConsumerHeartbeat(
            "client-a", [new Subscription(topic, "region IN ('eu'", ExpressionType.Sql92)], MessageModel.Clustering, ConsumeFromWhere.FirstOffset)));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, pull.Code);
        Assert.Contains("expected a value after '>' at 4 in \"a >\"", pull.Message);
        Assert.Equal(-1, await queue.GetCommittedOffset("sql-bad-group")); // the refused pull committed nothing
        Assert.Equal(MQErrorCode.InvalidFilterExpression, heartbeat.Code);
        Assert.Empty(await group.GetInstances());
    }

    [Fact]
    public void Consumers_refuse_a_malformed_SQL_filter_at_subscribe()
    {
        var push = new PushConsumer(_grains, PushOptions(UniqueName("g")));
        var pull = new PullConsumer(_grains, new PullConsumerOptions { ConsumerGroup = UniqueName("g") });

        var pushError = Assert.Throws<MQException>(() => push.Subscribe("orders", MessageSelector.BySql("amount > 100 AND")));
        var pullError = Assert.Throws<MQException>(() => pull.Subscribe("orders", MessageSelector.BySql("amount >> 1")));
        var empty = Assert.Throws<MQException>(() => push.Subscribe("orders", MessageSelector.BySql(" ")));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, pushError.Code);
        Assert.Contains("expected a condition", pushError.Message);
        Assert.Equal(MQErrorCode.InvalidFilterExpression, pullError.Code);
        Assert.Contains("expected a value after '>' at 9", pullError.Message);
        Assert.Equal(MQErrorCode.InvalidFilterExpression, empty.Code);
    }

    [Fact]
    public async Task A_push_consumer_with_an_SQL_selector_gets_exactly_the_matching_messages_and_ends_without_lag()
    {
        var (topic, sent) = await TopicWithMessagesAsync("sql-push", 40);
        var group = UniqueName("g");
        var expected = sent.Where((_, i) => MatchesSql(i)).Select(s => s.MsgId).Order().ToList();
        await using var consumer = new PushConsumer(_grains, PushOptions(group));

        var received = await StartPushAsync(consumer, topic, MessageSelector.BySql(Sql));
        await Eventually.PollAsync(() => Task.FromResult(received.Count), n => n >= expected.Count, Guard, $"the {expected.Count} matching messages");
        // Filtered-out messages still move the offset: once the group has no lag, nothing else can arrive.
        await WaitForNoLagAsync(group, topic, 2);

        Assert.Equal(expected, received.Select(m => m.MsgId).Order());
        var instance = Assert.Single(await _admin.GetGroupInstancesAsync(group));
        Assert.Contains(new Subscription(topic, Sql, ExpressionType.Sql92), instance.Subscriptions);
        // The retry topic is consumed whole: what comes back from it matched when first delivered.
        Assert.Contains(instance.Subscriptions, s => s.Topic == Validation.Names.RetryTopic(group) && s is { Expression: "*", ExpressionType: ExpressionType.Tag });
    }

    [Fact]
    public async Task A_tag_group_and_an_SQL_group_on_one_topic_each_get_their_own_set()
    {
        var (topic, sent) = await TopicWithMessagesAsync("sql-two-groups", 30);
        var (tagGroup, sqlGroup) = (UniqueName("tags"), UniqueName("sql"));
        await using var tagConsumer = new PushConsumer(_grains, PushOptions(tagGroup));
        await using var sqlConsumer = new PushConsumer(_grains, PushOptions(sqlGroup));

        var byTag = await StartPushAsync(tagConsumer, topic, MessageSelector.ByTag("odd"));
        var bySql = await StartPushAsync(sqlConsumer, topic, MessageSelector.BySql("region = 'asia' OR amount BETWEEN 50 AND 100"));
        await Task.WhenAll(WaitForNoLagAsync(tagGroup, topic, 2), WaitForNoLagAsync(sqlGroup, topic, 2));

        Assert.Equal(sent.Where((_, i) => TagOf(i) == "odd").Select(s => s.MsgId).Order(), byTag.Select(m => m.MsgId).Order());
        Assert.Equal(
            sent.Where((_, i) => PropertiesOf(i) is { Count: > 0 } p && (p["region"] == "asia" || int.Parse(p["amount"]) is >= 50 and <= 100)).Select(s => s.MsgId).Order(),
            bySql.Select(m => m.MsgId).Order());
    }

    [Fact]
    public async Task A_pull_consumer_whose_SQL_filter_matches_nothing_still_commits_past_every_message()
    {
        var (topic, _) = await TopicWithMessagesAsync("sql-nothing", 20);
        var group = UniqueName("g");
        await using var consumer = new PullConsumer(_grains, new PullConsumerOptions
        {
            ConsumerGroup = group,
            ConsumeFromWhere = ConsumeFromWhere.FirstOffset,
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            RebalanceInterval = TimeSpan.FromSeconds(2),
        });
        consumer.Subscribe(topic, MessageSelector.BySql("region = 'mars'"));
        await consumer.StartAsync();

        var polled = new List<MessageExt>();
        await Eventually.PollAsync(async () =>
        {
            polled.AddRange(await consumer.PollAsync(TimeSpan.FromMilliseconds(500)));
            await consumer.CommitAsync();
            return await _admin.GetGroupProgressAsync(group);
        }, p => p.Count(q => q.Topic == topic) == 2 && p.Where(q => q.Topic == topic).All(q => q.Lag == 0), Guard, "the group to commit past the filtered messages");

        Assert.Empty(polled);
    }

    [Fact]
    public async Task The_README_SQL_example_runs_as_written()
    {
        await _admin.CreateTopicAsync("Orders", 4);
        var connection = new { Grains = (IGrainFactory)_grains };
        await using var producer = new Producer(connection.Grains, new ProducerOptions { ProducerGroup = "shop" });

        // README:begin sql-filter (README.md shows exactly these lines; the next test keeps them equal)
        await producer.SendAsync(new Message("Orders", "order 43 created") { Properties = { ["amount"] = "250", ["region"] = "eu" } });

        await using var bigOrders = new PushConsumer(connection.Grains, new PushConsumerOptions { ConsumerGroup = "big-orders" });
        bigOrders.Subscribe("Orders", MessageSelector.BySql("amount > 100 AND region IN ('eu', 'us')"));
        bigOrders.RegisterMessageListener((messages, context, ct) =>
        {
            foreach (var m in messages) Console.WriteLine($"big order: {m.GetProperty("amount")} {m.BodyAsString()}");
            return Task.FromResult(ConsumeResult.Success);
        });
        await bigOrders.StartAsync();
        // README:end

        var instance = Assert.Single(await _admin.GetGroupInstancesAsync("big-orders"));
        Assert.Contains(new Subscription("Orders", "amount > 100 AND region IN ('eu', 'us')", ExpressionType.Sql92), instance.Subscriptions);
    }

    [Fact]
    public void The_README_SQL_example_is_the_code_the_test_above_runs()
    {
        var source = File.ReadAllLines(Path.Combine(ProcessRunner.RepositoryRoot, "tests", "OrleansMQ.Tests", "Filtering", "SqlFilterConsumeTests.cs"));
        var begin = Array.FindIndex(source, line => line.TrimStart().StartsWith("// README:begin sql-filter", StringComparison.Ordinal));
        var end = Array.FindIndex(source, begin + 1, line => line.Trim() == "// README:end");
        var indent = source[begin].Length - source[begin].TrimStart().Length;
        var snippet = string.Join("\n", source[(begin + 1)..end].Select(line => line.Length >= indent ? line[indent..] : line.TrimStart()));
        var readme = File.ReadAllText(Path.Combine(ProcessRunner.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");

        Assert.True(readme.Contains(snippet, StringComparison.Ordinal), $"README.md should show the SQL filter example exactly as the test runs it:\n{snippet}");
    }
}
