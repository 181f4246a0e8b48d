using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Process.CliResults;

namespace OrleansMQ.Tests.Process;

/// <summary>
/// <c>send --transaction</c> and <c>transaction list | commit | rollback</c> against a silo started with <c>./orleansmq up</c>
/// (default transaction settings: first check-back after 6 s): a committed send is consumed once, a rolled-back one never,
/// an unknown one stays pending until an operator resolves it; bad input exits 2 with one typed error line.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class TransactionCliTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task Send_with_a_transaction_commits_rolls_back_or_leaves_it_pending_and_transaction_list_shows_them()
    {
        var topic = UniqueName("cli-tx");
        var group = UniqueName("pg-cli");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));

        var commit = await fixture.CliAsync("send", topic, "--body", "paid", "--keys", "order-1", "--transaction", "commit", "--producer-group", group, "--json");
        var rollback = await fixture.CliAsync("send", topic, "--body", "cancelled", "--transaction", "rollback", "--producer-group", group, "--json");
        var unknown = await fixture.CliAsync("send", topic, "--body", "undecided", "--transaction", "unknown", "--producer-group", group, "--json");
        AssertOk(commit);
        AssertOk(rollback);
        AssertOk(unknown);
        var committed = Json(Assert.Single(commit.StdoutLines));
        Assert.Equal("committed", committed.GetProperty("state").GetString());
        Assert.Equal("commit", committed.GetProperty("localTransactionState").GetString());
        Assert.True(committed.TryGetProperty("queueOffset", out _));
        Assert.Equal("rolled-back", Json(Assert.Single(rollback.StdoutLines)).GetProperty("state").GetString());
        var pending = Json(Assert.Single(unknown.StdoutLines));
        Assert.Equal("pending", pending.GetProperty("state").GetString());
        Assert.Contains("left pending", unknown.Stderr);

        // Only the committed one reaches consumers.
        var consume = await fixture.CliAsync("consume", topic, "--group", UniqueName("g"), "--json");
        AssertOk(consume);
        var consumed = Json(Assert.Single(consume.StdoutLines));
        Assert.Equal(committed.GetProperty("msgId").GetString(), consumed.GetProperty("msgId").GetString());

        var list = await fixture.CliAsync("transaction", "list", "--group", group, "--json");
        AssertOk(list);
        var rows = list.StdoutLines.Select(Json).ToDictionary(r => r.GetProperty("transactionId").GetString()!, r => r.GetProperty("state").GetString());
        Assert.Equal(3, rows.Count);
        Assert.Equal("committed", rows[committed.GetProperty("transactionId").GetString()!]);
        Assert.Equal("pending", rows[pending.GetProperty("transactionId").GetString()!]);
        var table = await fixture.CliAsync("transaction", "list", "--group", group, "--state", "pending");
        AssertOk(table);
        Assert.Contains(table.StdoutLines, line => line.Contains(pending.GetProperty("transactionId").GetString()!, StringComparison.Ordinal));
        Assert.Contains("1 transaction(s) shown", table.Stdout);

        // An operator resolves the pending one; it is then consumed like any committed message.
        var resolve = await fixture.CliAsync("transaction", "commit", group, pending.GetProperty("transactionId").GetString()!);
        AssertOk(resolve);
        Assert.Contains("committed", resolve.Stdout);
        var again = await fixture.CliAsync("consume", topic, "--group", UniqueName("g"), "--json");
        AssertOk(again);
        Assert.Equal(2, again.StdoutLines.Count);
    }

    [Fact]
    public async Task Bad_transaction_requests_exit_2_with_one_typed_error_line()
    {
        var topic = UniqueName("cli-tx-bad");
        var fifo = UniqueName("cli-tx-fifo");
        var group = UniqueName("pg-cli-bad");
        AssertOk(await fixture.CliAsync("topic", "create", fifo, "--type", "fifo"));
        AssertError(await fixture.CliAsync("send", topic, "--body", "x", "--transaction", "commit", "--delay-level", "2"), "InvalidTransaction", 2);
        AssertError(await fixture.CliAsync("send", fifo, "--body", "x", "--transaction", "commit", "--producer-group", group), "MessageTypeMismatch", 2);
        AssertError(await fixture.CliAsync("send", topic, "--body", "x", "--transaction", "maybe"), "InvalidArgument", 2);
        AssertError(await fixture.CliAsync("transaction", "list", "--state", "stuck"), "InvalidArgument", 2);
        AssertError(await fixture.CliAsync("transaction", "rollback", group, "NO-SUCH-TRANSACTION"), "TransactionNotFound", 2);
        var list = await fixture.CliAsync("transaction", "list", "--group", group, "--json");
        AssertOk(list);
        Assert.Empty(list.StdoutLines);
    }
}
