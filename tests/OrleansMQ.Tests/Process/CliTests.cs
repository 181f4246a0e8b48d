using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Process.CliResults;

namespace OrleansMQ.Tests.Process;

/// <summary>
/// The <c>orleansmq</c> command-line tool as a user runs it, against a silo started with <c>./orleansmq up</c>:
/// results on stdout, one <c>error: &lt;code&gt;: …</c> line on stderr, and the documented exit codes.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class CliTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task Topic_create_then_list_and_status_show_the_new_topic()
    {
        var topic = UniqueName("cli-topic");

        var create = await fixture.CliAsync("topic", "create", topic, "--queues", "4");
        var listAndStatus = await Task.WhenAll(fixture.CliAsync("topic", "list"), fixture.CliAsync("topic", "status", topic));

        AssertOk(create);
        Assert.Equal($"created topic {topic}: 4 queues, type normal, perm RW, retention 72 h", Assert.Single(create.StdoutLines));
        var (list, status) = (listAndStatus[0], listAndStatus[1]);
        AssertOk(list);
        Assert.Contains(list.StdoutLines, line => line.Contains($" {topic} ", StringComparison.Ordinal) && line.Contains(" 4 ", StringComparison.Ordinal)
                                                  && line.Contains(" 72 h ", StringComparison.Ordinal));
        AssertOk(status);
        Assert.Equal(4, status.StdoutLines.Count(line => Regex.IsMatch(line, @"^│\s+[0-3]\s+│\s+0\s+│\s+0\s+│\s+0\s+│")));
        Assert.Equal("total: 0 message(s) in 4 queue(s), last stored -", status.StdoutLines[^1]);
        Assert.Equal(1, await fixture.Database.CountTopicRowsAsync(topic));
    }

    [Fact]
    public async Task Cluster_lists_the_running_silo_with_its_gateway_as_a_table_and_as_json()
    {
        var table = await fixture.CliAsync("cluster");
        var json = await fixture.CliAsync("cluster", "--json");

        AssertOk(table);
        Assert.Contains(table.StdoutLines, l => l.Contains($" {fixture.Silo.Gateway} ", StringComparison.Ordinal) && l.Contains(" Active ", StringComparison.Ordinal));
        AssertOk(json);
        var silo = Assert.Single(json.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement),
            e => e.GetProperty("gateway").GetString() == fixture.Silo.Gateway && e.GetProperty("status").GetString() == "Active");
        Assert.Equal($"127.0.0.1:{fixture.Silo.SiloPort}", silo.GetProperty("address").GetString());
        Assert.True(silo.GetProperty("activations").GetInt32() > 0);
    }

    [Fact]
    public async Task Topic_create_keeps_the_retention_asked_for_and_refuses_one_under_an_hour()
    {
        var topic = UniqueName("cli-retention");

        var refused = await fixture.CliAsync("topic", "create", topic, "--retention-hours", "0");
        var created = await fixture.CliAsync("topic", "create", topic, "--queues", "2", "--retention-hours", "6");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("retention is 0 hours; it must be at least 1", refused.Stderr);
        AssertOk(created);
        Assert.Equal($"created topic {topic}: 2 queues, type normal, perm RW, retention 6 h", Assert.Single(created.StdoutLines));
        var list = await fixture.CliAsync("topic", "list");
        Assert.Contains(list.StdoutLines, line => line.Contains($" {topic} ", StringComparison.Ordinal) && line.Contains(" 6 h ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Topic_update_grows_the_queues_and_a_read_only_topic_refuses_sends_until_writable_again()
    {
        var topic = UniqueName("cli-update");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));

        var grown = await fixture.CliAsync("topic", "update", topic, "--queues", "4", "--perm", "r");
        var refusedSend = await fixture.CliAsync("send", topic, "--body", "while read-only");
        var refusedShrink = await fixture.CliAsync("topic", "update", topic, "--queues", "3");
        var writable = await fixture.CliAsync("topic", "update", topic, "--perm", "rw");
        var sent = await fixture.CliAsync("send", topic, "--body", "writable again");
        var status = await fixture.CliAsync("topic", "status", topic);

        AssertOk(grown);
        Assert.Equal($"updated topic {topic}: 4 queues, type normal, perm R, retention 72 h", Assert.Single(grown.StdoutLines));
        Assert.Equal(2, refusedSend.ExitCode);
        Assert.Contains("not writable", refusedSend.Stderr);
        Assert.Equal(2, refusedShrink.ExitCode);
        Assert.Contains("has 4 queues and cannot shrink to 3", refusedShrink.Stderr);
        AssertOk(writable);
        AssertOk(sent);
        AssertOk(status);
        Assert.Contains("total: 1 message(s) in 4 queue(s)", status.Stdout);
    }

    [Fact]
    public async Task Group_list_shows_a_group_that_consumed_and_group_delete_removes_it_and_its_offsets()
    {
        var topic = UniqueName("cli-gdel");
        var group = UniqueName("gdel");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "m{i}", "--count", "4"));
        AssertOk(await fixture.CliAsync("consume", topic, "--group", group, "--count", "3", "--from", "first"));

        var listed = await fixture.CliAsync("group", "list");
        var listedJson = await fixture.CliAsync("group", "list", "--json");
        var progressJson = await fixture.CliAsync("group", "progress", group, "--json");
        var statusJson = await fixture.CliAsync("topic", "status", topic, "--json");
        var topicsJson = await fixture.CliAsync("topic", "list", "--json");
        var deleted = await fixture.CliAsync("group", "delete", group);
        var listedAfter = await fixture.CliAsync("group", "list");
        var offsetsAfter = await fixture.Database.CountGroupOffsetsAsync(group);
        var again = await fixture.CliAsync("consume", topic, "--group", group, "--count", "4", "--from", "first");

        AssertOk(listed);
        var row = Assert.Single(listed.StdoutLines, l => l.Contains($" {group} ", StringComparison.Ordinal));
        Assert.Matches(@"│\s+0\s+│\s+1\s+│\s+1\s+│", row); // no live instance, one topic, lag 1
        var json = Assert.Single(listedJson.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement), g => g.GetProperty("group").GetString() == group);
        Assert.Equal((0, 1, 1L), (json.GetProperty("instances").GetInt32(), json.GetProperty("topics").GetInt32(), json.GetProperty("totalLag").GetInt64()));
        var progress = progressJson.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([0, 1], progress.Select(q => q.GetProperty("queueId").GetInt32()));
        Assert.Equal(1, progress.Sum(q => q.GetProperty("lag").GetInt64()));
        Assert.Equal(4, statusJson.StdoutLines.Sum(l => JsonDocument.Parse(l).RootElement.GetProperty("messages").GetInt64()));
        var listedTopic = Assert.Single(topicsJson.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement), t => t.GetProperty("name").GetString() == topic);
        Assert.Equal((2, "RW"), (listedTopic.GetProperty("queues").GetInt32(), listedTopic.GetProperty("perm").GetString()));
        AssertOk(deleted);
        Assert.StartsWith($"deleted group {group}: ", Assert.Single(deleted.StdoutLines));
        Assert.DoesNotContain(listedAfter.StdoutLines, l => l.Contains($" {group} ", StringComparison.Ordinal));
        Assert.Equal(0, offsetsAfter);
        // The name now starts over as a new group: from the first offset, it gets all four messages again.
        AssertOk(again);
        Assert.Contains("consumed 4 message(s)", again.Stderr + again.Stdout);
    }

    [Fact]
    public async Task Consume_from_a_time_starts_a_new_group_at_the_first_message_stored_from_then()
    {
        var topic = UniqueName("cli-from");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "old {i}", "--count", "3"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var since = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        AssertOk(await fixture.CliAsync("send", topic, "--body", "new {i}", "--count", "2"));

        var fromTime = await fixture.CliAsync("consume", topic, "--group", UniqueName("from-time"), "--from", since, "--json", "--idle-exit", "2s");
        var badTime = await fixture.CliAsync("consume", topic, "--group", UniqueName("from-bad"), "--from", "yesterday");

        AssertOk(fromTime);
        Assert.Equal(["new 1", "new 2"], fromTime.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("body").GetString()).Order());
        Assert.Equal(2, badTime.ExitCode);
        Assert.Contains("'yesterday' is not a start for --from", badTime.Stderr);
    }

    [Fact]
    public async Task Consume_prints_what_send_stored_exactly_once_and_leaves_the_group_without_lag()
    {
        var topic = UniqueName("cli-msg");
        var group = UniqueName("g1");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "4"));

        var send = await fixture.CliAsync("send", topic, "--body", "hello", "--tag", "created", "--keys", "order-1", "--prop", "k=v", "--count", "3");
        AssertOk(send);
        var sent = ParseSent(send, topic);
        Assert.Equal(3, sent.Count);
        Assert.Equal(3, sent.Select(s => s.MsgId).Distinct().Count());
        foreach (var s in sent)
        {
            Assert.Equal(s.MsgId, (await fixture.Database.ReadRowAsync(topic, s.QueueId, s.Offset))?.MsgId);
        }

        var consume = await fixture.CliAsync("consume", topic, "--group", group, "--count", "3", "--json");
        AssertOk(consume);
        var consumed = consume.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(3, consumed.Count);
        Assert.Equal(sent.OrderBy(s => s.MsgId), consumed.Select(m => new Sent(
            m.GetProperty("msgId").GetString()!, m.GetProperty("queueId").GetInt32(), m.GetProperty("queueOffset").GetInt64())).OrderBy(s => s.MsgId));
        Assert.All(consumed, m =>
        {
            Assert.Equal(topic, m.GetProperty("topic").GetString());
            Assert.Equal("hello", m.GetProperty("body").GetString());
            Assert.Equal("created", m.GetProperty("tag").GetString());
            Assert.Equal(["order-1"], m.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
            Assert.Equal([("k", "v")], m.GetProperty("properties").EnumerateObject().Select(p => (p.Name, p.Value.GetString())));
            Assert.Equal(0, m.GetProperty("reconsumeTimes").GetInt32());
        });

        var again = await fixture.CliAsync("consume", topic, "--group", group, "--idle-exit", "2s");
        var progressAndStatus = await Task.WhenAll(fixture.CliAsync("group", "progress", group), fixture.CliAsync("topic", "status", topic));

        AssertOk(again);
        Assert.Empty(again.StdoutLines); // nothing repeated
        Assert.Contains("consumed 0 message(s)", again.Stderr);
        var (progress, status) = (progressAndStatus[0], progressAndStatus[1]);
        AssertOk(progress);
        Assert.Equal("total lag: 0 message(s) over 4 queue(s)", progress.StdoutLines[^1]);
        AssertOk(status);
        Assert.StartsWith("total: 3 message(s) in 4 queue(s)", status.StdoutLines[^1]);
        foreach (var s in sent)
        {
            Assert.Equal(s.Offset + 1, await fixture.Database.ReadConsumerOffsetAsync(group, topic, s.QueueId));
        }
    }

    [Fact]
    public async Task Consume_with_a_count_below_the_queue_length_commits_only_what_it_printed()
    {
        var topic = UniqueName("cli-count");
        var group = UniqueName("g");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "1"));
        var send = await fixture.CliAsync("send", topic, "--body", "n{i}", "--count", "5");
        AssertOk(send);
        var sent = ParseSent(send, topic);

        var first = await fixture.CliAsync("consume", topic, "--group", group, "--count", "2", "--json");
        var rest = await fixture.CliAsync("consume", topic, "--group", group, "--idle-exit", "2s", "--json");

        AssertOk(first);
        AssertOk(rest);
        var offsets = (ProcessResult r) => r.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("queueOffset").GetInt64());
        Assert.Equal([0L, 1], offsets(first));
        Assert.Equal([2L, 3, 4], offsets(rest));
        Assert.Equal(sent.Select(s => s.Offset), offsets(first).Concat(offsets(rest)));
        Assert.Equal(["n1", "n2", "n3", "n4", "n5"],
            first.StdoutLines.Concat(rest.StdoutLines).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("body").GetString()));
    }

    public static TheoryData<string[], string> BadInput() => new()
    {
        { ["topic", "create", "a b"], "InvalidTopicName" },
        { ["topic", "create", "%DLQ%x"], "ReservedName" },
        { ["send", "cli-bad-empty-body", "--body", ""], "EmptyBody" },
        { ["send", "cli-bad-tag", "--body", "x", "--tag", "a||b"], "InvalidTag" },
        { ["send", "cli-bad-prop", "--body", "x", "--prop", "novalue"], "InvalidArgument" },
        { ["consume", "cli-bad-group", "--group", "bad group"], "InvalidGroupName" },
        { ["group", "progress", "DEFAULT_CONSUMER"], "ReservedName" },
        { ["topic", "create", "t", "--queues", "many"], "InvalidArgument" },
        { ["send", "cli-bad-count", "--body", "x", "--count", "99999999999"], "InvalidArgument" },
        { ["send", "cli-bad-dup-prop", "--body", "x", "--prop", "k=1", "--prop", "k=2"], "InvalidArgument" },
        { ["send", "cli-bad-timer-prop", "--body", "x", "--prop", "__STARTDELIVERTIME=1893456000000"], "InvalidProperties" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Bad_input_fails_with_exit_code_2_and_one_error_line_naming_the_code(string[] arguments, string code)
    {
        var result = await fixture.CliAsync(arguments);

        AssertError(result, code, exitCode: 2);
        Assert.DoesNotContain("System.", result.StderrLines[0]); // the parser's .NET type names are said in words
        if (arguments[0] == "send")
        {
            Assert.Equal(0, await fixture.Database.CountTopicRowsAsync(arguments[1])); // refused before anything reached the broker
        }
    }

    [Fact]
    public async Task A_gateway_where_no_silo_listens_fails_with_BrokerUnavailable_and_exit_code_1()
    {
        var nobody = $"127.0.0.1:{ProcessRunner.FreePort()}";

        var result = await fixture.CliAsync(["topic", "list", "--connect-timeout", "1s"], gateway: nobody);

        AssertError(result, "BrokerUnavailable", exitCode: 1);
    }

    [Fact]
    public async Task Sending_to_a_deleted_topic_fails_with_TopicDeleted()
    {
        var topic = UniqueName("cli-deleted");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "before"));

        var delete = await fixture.CliAsync("topic", "delete", topic);
        var send = await fixture.CliAsync("send", topic, "--body", "x");

        AssertOk(delete);
        Assert.Equal($"deleted topic {topic}", Assert.Single(delete.StdoutLines));
        AssertError(send, "TopicDeleted", exitCode: 2);
        Assert.Equal(0, await fixture.Database.CountMessagesAsync(topic));
    }
}
