using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.Tests.Delay;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Transactions;

namespace OrleansMQ.Tests.Transactions;

/// <summary>
/// The transaction example of README.md's C# section, compiled and run here, and compared with the README's text so the
/// two cannot drift apart.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ReadmeTransactionExampleTests(BrokerClusterFixture fixture)
{
    private const string Begin = "// README transaction example: begin";
    private const string End = "// README transaction example: end";

    /// <summary>Stands in for the application's database.</summary>
    private sealed class Orders
    {
        private readonly ConcurrentDictionary<string, bool> _paid = new();

        public Task MarkPaidAsync(string orderId, CancellationToken ct) { _paid[orderId] = true; return Task.CompletedTask; }

        public Task<bool> IsPaidAsync(string orderId, CancellationToken ct) => Task.FromResult(_paid.ContainsKey(orderId));
    }

    [Fact]
    public async Task The_readme_transaction_example_commits_its_message()
    {
        var topic = await fixture.Client.CreateTopicAsync("Orders", 4);
        var shop = TestData.UniqueName("shop");
        var connection = new { Grains = (IGrainFactory)fixture.Client };
        var orders = new Orders();
        var lines = new List<string>();
        void WriteLine(string line) => lines.Add(line);

        // README transaction example: begin
        await using var txProducer = new TransactionProducer(connection.Grains, new ProducerOptions { ProducerGroup = shop }, new TransactionListener(
            execute: async (message, arg, ct) =>
            {
                await orders.MarkPaidAsync((string)arg!, ct);          // the local transaction, e.g. a database update
                return LocalTransactionState.Commit;                   // Rollback discards the message; Unknown (or a throw): checked back
            },
            check: async (message, ct) =>                              // asked later, of any live producer of the group
                await orders.IsPaidAsync(message.Keys[0], ct) ? LocalTransactionState.Commit : LocalTransactionState.Rollback));

        var result = await txProducer.SendMessageInTransactionAsync(new Message(topic, "order 42 paid") { Keys = { "order-42" } }, arg: "order-42");
        WriteLine($"{result.TransactionId}: {result.State}");        // Committed, RolledBack, or Pending (left to the check-back)
        // README transaction example: end

        Assert.Equal($"{result.TransactionId}: Committed", Assert.Single(lines));
        Assert.True(await orders.IsPaidAsync("order-42", default));
        var stored = Assert.Single(await ScheduleTestKit.ReadAllAsync(fixture.Client, topic, 4));
        Assert.Equal(result.MsgId, stored.MsgId);
    }

    [Fact]
    public async Task The_readme_shows_the_example_as_it_is_compiled_here()
    {
        var source = await File.ReadAllTextAsync(Path.Combine(ProcessRunner.RepositoryRoot, "tests", "OrleansMQ.Tests", "Transactions", "ReadmeTransactionExampleTests.cs"));
        var readme = await File.ReadAllTextAsync(Path.Combine(ProcessRunner.RepositoryRoot, "README.md"));
        // The markers as lines of their own (the constants above spell them too, followed by a quote).
        var start = source.IndexOf(Begin + "\n", StringComparison.Ordinal) + Begin.Length;
        var example = Normalize(source[start..source.IndexOf(End + "\n", StringComparison.Ordinal)]
            .Replace("WriteLine(", "Console.WriteLine(", StringComparison.Ordinal)
            .Replace("ProducerGroup = shop", "ProducerGroup = \"shop\"", StringComparison.Ordinal)
            .Replace("new Message(topic,", "new Message(\"Orders\",", StringComparison.Ordinal));
        Assert.Contains(example, Normalize(readme), StringComparison.Ordinal);
    }

    /// <summary>The lines without their indentation, so the README's block may be indented differently.</summary>
    private static string Normalize(string text) =>
        string.Join('\n', text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
}
