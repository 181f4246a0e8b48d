using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Process.CliResults;

namespace OrleansMQ.Tests.Process;

/// <summary><c>orleansmq message …</c> and <c>orleansmq group reset-offset</c> as a user runs them against a real silo.</summary>
[Collection(ProcessCollection.Name)]
public sealed class QueryCliTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task Message_id_key_and_offset_find_what_send_stored()
    {
        var topic = UniqueName("cli-query");
        var key = UniqueName("order");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        var send = await fixture.CliAsync("send", topic, "--body", "created", "--keys", key, "--tag", "c");
        AssertOk(send);
        var sent = Assert.Single(ParseSent(send, topic));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "paid", "--keys", key));

        var byId = await fixture.CliAsync("message", "id", sent.MsgId, "--json");
        var byKey = await fixture.CliAsync("message", "key", topic, key, "--begin", "-10m", "--json");
        var byOffset = await fixture.CliAsync("message", "offset", topic, sent.QueueId.ToString(), sent.Offset.ToString());

        AssertOk(byId);
        var found = Json(Assert.Single(byId.StdoutLines));
        Assert.Equal(("created", "c"), (found.GetProperty("body").GetString(), found.GetProperty("tag").GetString()));
        AssertOk(byKey);
        Assert.Equal(["created", "paid"], byKey.StdoutLines.Select(l => Json(l).GetProperty("body").GetString()));
        AssertOk(byOffset);
        Assert.Contains($"msgId={sent.MsgId}", Assert.Single(byOffset.StdoutLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Message_track_shows_a_group_that_consumed_the_message_and_one_that_has_not_yet()
    {
        var topic = UniqueName("cli-track");
        var early = UniqueName("early");
        var late = UniqueName("late");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "1"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "before"));
        AssertOk(await fixture.CliAsync("consume", topic, "--group", late, "--count", "1"));
        var sent = Assert.Single(ParseSent(await fixture.CliAsync("send", topic, "--body", "tracked"), topic));
        AssertOk(await fixture.CliAsync("consume", topic, "--group", early, "--count", "2"));

        var track = await fixture.CliAsync("message", "track", sent.MsgId, "--json");
        var table = await fixture.CliAsync("message", "track", sent.MsgId);

        AssertOk(track);
        var statuses = track.StdoutLines.Select(Json).ToDictionary(j => j.GetProperty("group").GetString()!, j => j.GetProperty("status").GetString());
        Assert.Equal("Consumed", statuses[early]);
        Assert.Equal("NotOnline", statuses[late]);
        AssertOk(table);
        Assert.Contains(table.StdoutLines, l => l.Contains($" {early} ", StringComparison.Ordinal) && l.Contains(" Consumed ", StringComparison.Ordinal));

        var resend = await fixture.CliAsync("message", "resend", sent.MsgId, "--group", early);
        var copies = await fixture.CliAsync("message", "id", sent.MsgId, "--json");

        AssertOk(resend);
        Assert.Equal($"resent {sent.MsgId} ({topic}:0 offset {sent.Offset}) to group {early} through %RETRY%{early}", Assert.Single(resend.StdoutLines));
        Assert.Equal([$"%RETRY%{early}", topic], copies.StdoutLines.Select(l => Json(l).GetProperty("topic").GetString()).Order(StringComparer.Ordinal));

        // The group's next consume prints the resent message (from its retry topic, with the original topic), once.
        var again = await fixture.CliAsync("consume", topic, "--group", early, "--idle-exit", "2s", "--json");
        var twice = await fixture.CliAsync("consume", topic, "--group", early, "--idle-exit", "1s", "--json");
        AssertOk(again);
        var redelivered = Json(Assert.Single(again.StdoutLines));
        Assert.Equal((sent.MsgId, topic, $"%RETRY%{early}", "tracked"),
            (redelivered.GetProperty("msgId").GetString(), redelivered.GetProperty("topic").GetString(),
             redelivered.GetProperty("queueTopic").GetString(), redelivered.GetProperty("body").GetString()));
        AssertOk(twice);
        Assert.Empty(twice.StdoutLines);
    }

    [Fact]
    public async Task Queries_that_find_nothing_or_get_bad_input_print_one_error_line_and_exit_2()
    {
        var topic = UniqueName("cli-query-none");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "1"));

        var results = await Task.WhenAll(
            fixture.CliAsync("message", "id", "0000000000000000000000000000AAAA"),
            fixture.CliAsync("message", "key", topic, "nobody"),
            fixture.CliAsync("message", "offset", topic, "0", "0"),
            fixture.CliAsync("message", "key", topic, "k", "--begin", "yesterday-ish"),
            fixture.CliAsync("group", "reset-offset", "g", "--topic", topic, "--to-time", "soon"));

        foreach (var (result, code) in results.Zip(["MessageNotFound", "MessageNotFound", "MessageNotFound", "InvalidArgument", "InvalidArgument"]))
        {
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.StartsWith($"error: {code}:", Assert.Single(result.StderrLines));
        }
    }

    [Fact]
    public async Task Reset_offset_to_an_earlier_time_makes_consume_print_the_messages_again()
    {
        var topic = UniqueName("cli-reset");
        var group = UniqueName("replay");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "m{i}", "--count", "4"));
        var first = await fixture.CliAsync("consume", topic, "--group", group, "--count", "4", "--json");
        AssertOk(first);
        var nothingLeft = await fixture.CliAsync("consume", topic, "--group", group, "--idle-exit", "1s", "--json");
        AssertOk(nothingLeft);
        Assert.Empty(nothingLeft.StdoutLines);

        var reset = await fixture.CliAsync("group", "reset-offset", group, "--topic", topic, "--to-time", "-1h");
        var again = await fixture.CliAsync("consume", topic, "--group", group, "--count", "4", "--json");

        AssertOk(reset);
        Assert.Contains(reset.StdoutLines, l => l.StartsWith($"group {group} now starts at", StringComparison.Ordinal));
        AssertOk(again);
        Assert.Equal(
            first.StdoutLines.Select(l => Json(l).GetProperty("msgId").GetString()).Order(),
            again.StdoutLines.Select(l => Json(l).GetProperty("msgId").GetString()).Order());
    }
}
