using System.Text.Json;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Process;

/// <summary>The ordered and broadcasting commands as a user runs them: FIFO topic, send --message-group, consume --orderly / --broadcast.</summary>
[Collection(ProcessCollection.Name)]
public sealed class OrderedCliTests(SiloProcessFixture fixture)
{
    private static void AssertOk(ProcessResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    [Fact]
    public async Task Send_with_a_message_group_and_consume_orderly_keep_send_order_and_a_fifo_topic_refuses_delay_messages()
    {
        var topic = UniqueName("cli-fifo");
        var create = await fixture.CliAsync("topic", "create", topic, "--queues", "4", "--type", "fifo");
        AssertOk(create);
        Assert.Contains("type fifo", Assert.Single(create.StdoutLines));

        var send = await fixture.CliAsync("send", topic, "--body", "step {i}", "--message-group", "order-42", "--count", "5", "--json");
        AssertOk(send);
        var queues = send.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("queueId").GetInt32()).Distinct().ToList();
        Assert.Single(queues); // one message group, one queue

        var delay = await fixture.CliAsync("send", topic, "--body", "x", "--delay-level", "3");
        Assert.Equal(2, delay.ExitCode);
        Assert.StartsWith("error: MessageTypeMismatch:", Assert.Single(delay.StderrLines));

        var consume = await fixture.CliAsync("consume", topic, "--group", UniqueName("g"), "--orderly", "--count", "5", "--json");
        AssertOk(consume);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"step {i}"),
            consume.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("body").GetString()));
    }

    [Fact]
    public async Task Two_broadcasting_instances_each_print_every_message_and_a_rerun_resumes_after_them()
    {
        var topic = UniqueName("cli-bc");
        var group = UniqueName("g");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "m{i}", "--count", "4"));

        var runs = await Task.WhenAll(
            fixture.CliAsync("consume", topic, "--group", group, "--broadcast", "--instance", "one", "--count", "4", "--idle-exit", "20s"),
            fixture.CliAsync("consume", topic, "--group", group, "--broadcast", "--instance", "two", "--count", "4", "--idle-exit", "20s"));
        foreach (var run in runs)
        {
            AssertOk(run);
            Assert.Equal(4, run.StdoutLines.Count);
        }
        AssertOk(await fixture.CliAsync("send", topic, "--body", "late", "--count", "1"));
        // Resumed from its own offsets: the first message it prints is the new one, not m1 again.
        var again = await fixture.CliAsync("consume", topic, "--group", group, "--broadcast", "--instance", "one", "--count", "1", "--idle-exit", "20s");
        AssertOk(again);
        Assert.Contains("body=\"late\"", Assert.Single(again.StdoutLines));
    }

    [Fact]
    public async Task Consume_orderly_stops_when_the_reader_of_its_output_goes_away()
    {
        var topic = UniqueName("cli-close");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "m {i}", "--count", "3"));
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { SiloProcessFixture.CliDll, "consume", topic, "--group", UniqueName("g"), "--orderly", "--from", "first", "--follow", "--gateway", fixture.Silo.Gateway })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.NotNull(await process.StandardOutput.ReadLineAsync());
            process.StandardOutput.Close(); // as `| head -n 1` does once it has its line
            // What arrives now cannot be written: --follow would otherwise run until Ctrl-C.
            AssertOk(await fixture.CliAsync("send", topic, "--body", "after {i}", "--count", "3"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("(stdout closed)", await stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Group_describe_json_shows_a_live_orderly_instance_with_its_queues_locks_and_subscription()
    {
        var topic = UniqueName("cli-describe");
        var group = UniqueName("g");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2", "--type", "fifo"));
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { SiloProcessFixture.CliDll, "consume", topic, "--group", group, "--orderly", "--tag-expr", "a || b", "--follow", "--gateway", fixture.Silo.Gateway })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        try
        {
            var instance = await Eventually.PollAsync(async () =>
            {
                var described = await fixture.CliAsync("group", "describe", group, "--json");
                AssertOk(described);
                return described.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).SingleOrDefault();
            }, i => i.ValueKind == JsonValueKind.Object && i.GetProperty("locks").EnumerateArray().Count(l => l.GetString()!.StartsWith(topic, StringComparison.Ordinal)) == 2,
                TimeSpan.FromSeconds(60), "the instance to hold both queue locks of the topic");

            Assert.True(instance.GetProperty("orderly").GetBoolean());
            Assert.Equal("Clustering", instance.GetProperty("messageModel").GetString());
            Assert.Equal([$"{topic}:0", $"{topic}:1"], instance.GetProperty("queues").EnumerateArray().Select(q => q.GetString()).Where(q => q!.StartsWith(topic, StringComparison.Ordinal)));
            var subscription = Assert.Single(instance.GetProperty("subscriptions").EnumerateArray(), s => s.GetProperty("topic").GetString() == topic);
            Assert.Equal(("Tag", "a || b"), (subscription.GetProperty("expressionType").GetString(), subscription.GetProperty("expression").GetString()));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
