using System.CommandLine;
using System.Globalization;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.Transactions;

namespace OrleansMQ.Cli.Commands.Transactions;

/// <summary><c>orleansmq transaction list | commit | rollback</c>: half messages of producer groups, and resolving a stuck one by hand.</summary>
internal static class TransactionCommands
{
    /// <summary>The group <c>send --transaction</c> uses when no <c>--producer-group</c> is given.</summary>
    public const string DefaultCliProducerGroup = "orleansmq-cli";

    private static readonly (string Name, TransactionState State)[] States =
    [
        ("pending", TransactionState.Pending),
        ("committing", TransactionState.Committing),
        ("committed", TransactionState.Committed),
        ("rolled-back", TransactionState.RolledBack),
        ("discarded", TransactionState.Discarded),
    ];

    public static Command Create() => new("transaction", "Transaction (half) messages of producer groups: list them, commit or roll back a stuck one")
    {
        List(),
        End("commit", LocalTransactionState.Commit,
            """
            Commit a pending transaction by hand: its message becomes visible to consumers (once).
            Example: orleansmq transaction commit shop 01A210EE0BE879158B4B7321BFEDDB45
            """),
        End("rollback", LocalTransactionState.Rollback,
            """
            Roll back a pending transaction by hand: its message is discarded and never delivered.
            Example: orleansmq transaction rollback shop 01A210EE0BE879158B4B7321BFEDDB45
            """),
    };

    /// <summary>How a state reads on the command line.</summary>
    public static string NameOf(TransactionState state) => States.First(s => s.State == state).Name;

    private static Command List()
    {
        var group = new Option<string>("--group") { Description = "Only this producer group's transactions", HelpName = "group" };
        var state = new Option<string>("--state", "-s")
        {
            Description = $"Only transactions in this state: {string.Join(", ", States.Select(s => s.Name))}",
            HelpName = "state",
        };
        var max = new Option<int>("--max") { Description = "Most transactions to show, newest first (1 to 1000)", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per transaction instead of a table" };
        var command = new Command("list",
            """
            Half messages, newest first: producer group, transaction id, destination queue, state, check-backs so far, and when
            the next check is due (pending) or who resolved it (producer, check-back, operator, broker).
            Example: orleansmq transaction list --group shop --state pending
            """)
        {
            group, state, max, json,
        };
        command.SetBrokerAction(parse =>
        {
            if (parse.GetValue(group) is { } g) Validation.Names.CheckGroup(g);
            ParseState(parse.GetValue(state));
        }, async (parse, connection, cancellationToken) =>
        {
            var transactions = await connection.CreateAdminClient().ListTransactionsAsync(
                parse.GetValue(group), ParseState(parse.GetValue(state)), parse.GetValue(max), cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var t in transactions)
                {
                    JsonLine.Write(w =>
                    {
                        w.WriteString("producerGroup", t.ProducerGroup);
                        w.WriteString("transactionId", t.TransactionId);
                        w.WriteString("msgId", t.MsgId);
                        w.WriteString("topic", t.Queue.Topic);
                        w.WriteNumber("queueId", t.Queue.QueueId);
                        if (t.Tag is { } tag) w.WriteString("tag", tag);
                        w.WriteString("state", NameOf(t.State));
                        w.WriteNumber("checkTimes", t.CheckTimes);
                        w.WriteString("createdAt", t.CreatedAt);
                        if (t.NextCheckAt is { } next) w.WriteString("nextCheckAt", next);
                        if (t.ResolvedAt is { } resolved) w.WriteString("resolvedAt", resolved);
                        if (t.ResolvedBy is { } by) w.WriteString("resolvedBy", TransactionRules.NameOf(by));
                        if (t.QueueOffset is { } offset) w.WriteNumber("queueOffset", offset);
                        if (t.Note is { } note) w.WriteString("note", note);
                    });
                }
                return ExitCodes.Ok;
            }
            var table = Output.NewTable("Group", "Transaction Id", "Queue", "Tag", "State", "Checks", "Created", "Next Check", "Resolved", "By", "Offset", "Note")
                .RightAligned(5, 10);
            foreach (var t in transactions)
            {
                table.AddPlainRow(t.ProducerGroup, t.TransactionId, $"{t.Queue.Topic}:{t.Queue.QueueId}", t.Tag ?? "-", NameOf(t.State),
                    t.CheckTimes.ToString(CultureInfo.InvariantCulture), Output.Time(t.CreatedAt), Output.Time(t.NextCheckAt), Output.Time(t.ResolvedAt),
                    t.ResolvedBy is { } by ? TransactionRules.NameOf(by) : "-", t.QueueOffset?.ToString(CultureInfo.InvariantCulture) ?? "-", t.Note ?? "-");
            }
            Output.Write(table);
            Output.Line($"{transactions.Count} transaction(s) shown");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command End(string name, LocalTransactionState decision, string description)
    {
        var group = new Argument<string>("group") { Description = "Producer group of the transaction" };
        var transactionId = new Argument<string>("transactionId") { Description = "Transaction id (the message id; see 'orleansmq transaction list')" };
        var command = new Command(name, description) { group, transactionId };
        command.SetBrokerAction(parse => TransactionRules.CheckProducerGroup(parse.GetValue(group)), async (parse, connection, cancellationToken) =>
        {
            var ended = await connection.CreateAdminClient().EndTransactionAsync(
                parse.GetRequiredValue(group), parse.GetRequiredValue(transactionId), decision, cancellationToken);
            Output.Line(ended.QueueOffset is { } offset
                ? $"transaction {ended.TransactionId} {NameOf(ended.State)}: queue={ended.Queue.Topic}:{ended.Queue.QueueId} offset={offset}"
                : $"transaction {ended.TransactionId} {NameOf(ended.State)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static TransactionState? ParseState(string? text)
    {
        if (text is null) return null;
        foreach (var (name, state) in States)
        {
            // "rolledback" too, as the HTTP API and the JSON output spell it.
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase) || string.Equals(name.Replace("-", ""), text, StringComparison.OrdinalIgnoreCase)) return state;
        }
        throw CliErrors.BadArgument($"--state '{text}' is not a transaction state; use one of {string.Join(", ", States.Select(s => s.Name))}");
    }
}
