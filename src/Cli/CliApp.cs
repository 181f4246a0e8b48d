using System.CommandLine;
using OrleansMQ.Cli.Commands.Bench;
using OrleansMQ.Cli.Commands.Cluster;
using OrleansMQ.Cli.Commands.Delay;
using OrleansMQ.Cli.Commands.Groups;
using OrleansMQ.Cli.Commands.Messages;
using OrleansMQ.Cli.Commands.Queries;
using OrleansMQ.Cli.Commands.Retry;
using OrleansMQ.Cli.Commands.Topics;
using OrleansMQ.Cli.Commands.Transactions;
using OrleansMQ.Cli.Common;

namespace OrleansMQ.Cli;

/// <summary>
/// <c>orleansmq</c>: the OrleansMQ command-line tool (mqadmin, the producer/consumer tools and the benchmark
/// scripts of RocketMQ in one). Results go to stdout, everything else to stderr.
/// </summary>
internal static class CliApp
{
    /// <summary>The whole command tree.</summary>
    public static RootCommand CreateRoot() =>
        new RootCommand(
            """
            OrleansMQ command-line tool: manage topics and consumer groups, send and consume messages, benchmark the broker.

            Examples:
              orleansmq cluster
              orleansmq topic create orders --queues 8
              orleansmq topic list
              orleansmq topic status orders
              orleansmq send orders --body 'order {i} created' --tag created --keys order-{i} --count 10
              orleansmq consume orders --group billing --count 10 --json
              orleansmq message key orders order-3
              orleansmq group reset-offset billing --topic orders --to-time -1h
              orleansmq group progress billing
              orleansmq send orders --body 'remind me' --delay-level 3
              orleansmq delay status
              orleansmq dlq list billing
              orleansmq send orders --body 'order 42 paid' --transaction commit --producer-group shop
              orleansmq transaction list --group shop --state pending
              orleansmq bench produce --threads 4 --size 1024 --duration 10s
              orleansmq bench e2e --rate 2000 --duration 20s
              ORLEANSMQ_GATEWAY=broker-1:30000 orleansmq topic list

            Exit codes: 0 success, 1 broker unavailable or unexpected failure, 2 bad input or refused by the broker, 130 interrupted (consume --follow, which is stopped with Ctrl-C, exits 0 after committing).
            """)
        {
            GlobalOptions.Gateway,
            GlobalOptions.Verbose,
            GlobalOptions.ConnectTimeout,
            ClusterCommands.Create(),
            TopicCommands.Create(),
            SendCommand.Create(),
            ConsumeCommand.Create(),
            GroupCommands.Create(),
            MessageCommands.Create(),
            DelayCommands.Create(),
            DlqCommands.Create(),
            TransactionCommands.Create(),
            BenchCommands.Create(),
        };
}
