using System.CommandLine;
using OrleansMQ.Cli.Common;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary><c>orleansmq bench …</c>: RocketMQ's benchmark scripts (producer.sh, consumer.sh) plus end-to-end latency and the Postgres ceiling.</summary>
internal static class BenchCommands
{
    public const string DefaultTopic = "BenchTopic";

    public static Command Create() => new("bench",
        """
        Benchmark the broker. A typical session:
          orleansmq bench pg-ceiling                    # what Postgres alone can take
          orleansmq bench produce --duration 10s        # fills BenchTopic
          orleansmq bench consume --duration 10s        # reads BenchTopic from the first offset
          orleansmq bench e2e --rate 2000 --duration 20s
          orleansmq bench delay --rate 5000 --delay 10s  # lateness of timer messages
        """)
    {
        ProduceBench.Create(),
        ConsumeBench.Create(),
        EndToEndBench.Create(),
        PgCeilingBench.Create(),
        DelayBench.Create(),
    };

    public static Option<string> TopicOption(string defaultTopic = DefaultTopic) => new("--topic")
    {
        Description = "Topic to use",
        DefaultValueFactory = _ => defaultTopic,
    };

    public static Option<int> QueuesOption() => new("--queues")
    {
        Description = "Queue count when the topic has to be created",
        DefaultValueFactory = _ => 8,
    };

    public static Option<int> SizeOption() => new("--size")
    {
        Description = "Message body size in bytes",
        DefaultValueFactory = _ => 1024,
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Also print the result as one JSON line" };

    /// <summary>Creates the topic unless it exists; says which on stderr.</summary>
    public static async Task EnsureTopicAsync(OrleansMQConnection connection, string topic, int queues, CancellationToken cancellationToken)
    {
        try
        {
            var config = await connection.CreateAdminClient().CreateTopicAsync(topic, queues, cancellationToken: cancellationToken);
            Output.Note($"created topic {config.Name} with {config.Queues} queues");
        }
        catch (MQException e) when (e.Code == MQErrorCode.TopicAlreadyExists)
        {
        }
    }

    /// <summary>A body of <paramref name="size"/> printable bytes (random, so compression cannot flatter the numbers).</summary>
    public static byte[] Body(int size)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var body = new byte[size];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)alphabet[Random.Shared.Next(alphabet.Length)];
        }
        return body;
    }

    /// <summary>Checks a bench body against the shared message rules before connecting (too large fails at once).</summary>
    public static void CheckBody(byte[] body) =>
        MessageRules.Check(new MessageData("", null, [], body, null, DateTimeOffset.UtcNow, null, null));

    /// <summary>Checks that a numeric option is at least <paramref name="minimum"/>.</summary>
    public static int AtLeast(int value, int minimum, string option) =>
        value >= minimum ? value : throw CliErrors.BadArgument($"{option} is {value}; it must be at least {minimum}");

    /// <summary>Checks that a duration option is positive.</summary>
    public static TimeSpan Positive(TimeSpan value, string option) =>
        value > TimeSpan.Zero ? value : throw CliErrors.BadArgument($"{option} is {Durations.Format(value)}; it must be positive");
}
