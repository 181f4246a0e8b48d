using System.Text.Json;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Process;

/// <summary>
/// The CLI's delay and dead-letter commands against a silo started with <c>./orleansmq up</c> (the default delay
/// table: level 1 is 1 s): send with a delay, see it in <c>delay status</c>, consume it once due; bad input exits 2.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class DelayCliTests(SiloProcessFixture fixture)
{
    private static void AssertOk(ProcessResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    private static void AssertError(ProcessResult result, string code)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2: {result}");
        Assert.StartsWith($"error: {code}:", Assert.Single(result.StderrLines));
    }

    [Fact]
    public async Task Send_with_a_delay_level_or_deliver_after_is_consumed_once_due_and_shown_in_delay_status()
    {
        var topic = UniqueName("cli-delay");
        var group = UniqueName("g");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));

        var level = await fixture.CliAsync("send", topic, "--body", "one second later", "--delay-level", "1", "--json");
        var timer = await fixture.CliAsync("send", topic, "--body", "two seconds later", "--deliver-after", "2s", "--json");
        AssertOk(level);
        AssertOk(timer);
        var levelResult = JsonDocument.Parse(Assert.Single(level.StdoutLines)).RootElement;
        Assert.Equal("SCHEDULE_TOPIC_XXXX:0", levelResult.GetProperty("scheduledOn").GetString());
        var timerResult = JsonDocument.Parse(Assert.Single(timer.StdoutLines)).RootElement;
        Assert.StartsWith("rmq_sys_wheel_timer:", timerResult.GetProperty("scheduledOn").GetString());

        var consume = await fixture.CliAsync("consume", topic, "--group", group, "--count", "2", "--json");
        AssertOk(consume);
        var consumed = consume.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(
            new[] { levelResult.GetProperty("msgId").GetString(), timerResult.GetProperty("msgId").GetString() }.Order(),
            consumed.Select(m => m.GetProperty("msgId").GetString()).Order());
        var levelStored = levelResult.GetProperty("storedAt").GetDateTimeOffset();
        var delivered = consumed.Single(m => m.GetProperty("msgId").GetString() == levelResult.GetProperty("msgId").GetString());
        Assert.True(delivered.GetProperty("storedAt").GetDateTimeOffset() >= levelStored.AddSeconds(1), "delivered before its level's delay");

        var status = await fixture.CliAsync("delay", "status", "--json");
        AssertOk(status);
        var schedules = status.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(18 + 4, schedules.Count);
        var first = schedules.Single(s => s.GetProperty("kind").GetString() == "DelayLevel" && s.GetProperty("id").GetInt32() == 1);
        Assert.Equal(1000, first.GetProperty("delayMs").GetDouble());
        Assert.True(first.GetProperty("delivered").GetInt64() >= 1);
        var table = await fixture.CliAsync("delay", "status");
        AssertOk(table);
        Assert.Contains(table.StdoutLines, line => line.Contains("level 18", StringComparison.Ordinal) && line.Contains("2h", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_delays_and_dlq_requests_exit_2_with_one_typed_error_line()
    {
        var topic = UniqueName("cli-delay-bad");
        AssertError(await fixture.CliAsync("send", topic, "--body", "x", "--delay-level", "19"), "InvalidDelayLevel");
        AssertError(await fixture.CliAsync("send", topic, "--body", "x", "--delay-level", "1", "--deliver-after", "1s"), "InvalidArgument");
        AssertError(await fixture.CliAsync("send", topic, "--body", "x", "--deliver-after", "48h"), "DeliverTimeOutOfRange");
        AssertError(await fixture.CliAsync("send", topic, "--body", "x", "--deliver-at", "tomorrow"), "InvalidArgument");
        AssertError(await fixture.CliAsync("dlq", "resend", "g1"), "InvalidArgument");
        AssertError(await fixture.CliAsync("dlq", "resend", UniqueName("g"), "--msg-id", "NO-SUCH-ID"), "MessageNotFound");
        var empty = await fixture.CliAsync("dlq", "list", UniqueName("g"));
        AssertOk(empty);
        Assert.Contains("0 dead letter(s)", empty.Stdout);
    }
}
