using System.Text.Json;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Process.CliResults;

namespace OrleansMQ.Tests.Process;

/// <summary><c>orleansmq consume --sql</c> as a user runs it against a silo process.</summary>
[Collection(ProcessCollection.Name)]
public sealed class FilterCliTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task Consume_with_sql_prints_only_matching_messages_and_commits_past_the_rest()
    {
        var topic = UniqueName("cli-sql");
        var group = UniqueName("g");
        AssertOk(await fixture.CliAsync("topic", "create", topic, "--queues", "2"));
        // One process at a time: several CLI processes starting at once on a loaded machine can miss the connect timeout.
        AssertOk(await fixture.CliAsync("send", topic, "--body", "big-eu", "--prop", "a=7", "--prop", "region=eu", "--count", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "small-eu", "--prop", "a=3", "--prop", "region=eu", "--count", "2"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "big-asia", "--prop", "a=9", "--prop", "region=asia"));
        AssertOk(await fixture.CliAsync("send", topic, "--body", "no-props", "--count", "2"));

        var consume = await fixture.CliAsync("consume", topic, "--group", group, "--sql", "a > 5 AND region IN ('eu','us')", "--idle-exit", "3s", "--json");
        var progress = await fixture.CliAsync("group", "progress", group);

        AssertOk(consume);
        Assert.Equal(["big-eu", "big-eu"], consume.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("body").GetString()));
        AssertOk(progress);
        Assert.Equal("total lag: 0 message(s) over 2 queue(s)", progress.StdoutLines[^1]);
    }

    public static TheoryData<string[], string, string> BadFilters() => new()
    {
        { ["--sql", "a > "], "InvalidFilterExpression", "error: InvalidFilterExpression: SQL92 filter: expected a value after '>' at 4 in \"a >\"" },
        { ["--sql", "region IN ('eu'"], "InvalidFilterExpression", "expected ',' or ')' in the IN list at 16" },
        { ["--sql", "a = 1", "--tag", "A"], "InvalidArgument", "--sql and --tag-expr both given" },
        { ["--tag-expr", "A ||"], "InvalidFilterExpression", "tag expression 'A ||' is malformed" },
    };

    [Theory]
    [MemberData(nameof(BadFilters))]
    public async Task A_malformed_filter_fails_with_exit_code_2_and_one_clear_line(string[] filter, string code, string text)
    {
        var result = await fixture.CliAsync(["consume", "cli-sql-bad", "--group", "g-sql-bad", .. filter]);

        AssertError(result, code, exitCode: 2);
        Assert.Contains(text, result.Stderr);
    }
}
