using System.CommandLine;
using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using OrleansMQ.Cli.Common;
using OrleansMQ.Messages;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// <c>orleansmq bench pg-ceiling</c>: how many message rows Postgres alone takes, written the way the broker
/// writes them (binary COPY of omq_message rows, one transaction per group commit) but with no broker in
/// between. The broker's produce throughput can approach this number, never exceed it.
/// </summary>
internal sealed class PgCeilingBench
{
    /// <summary>The private Postgres that <c>./orleansmq up</c> starts.</summary>
    public const string DefaultConnectionString = "Host=127.0.0.1;Port=55432;Username=orleansmq;Database=orleansmq";

    private const string PostgresVariable = "ORLEANSMQ_POSTGRES";
    private const string Table = "omq_bench_ceiling";
    private const string Topic = "BenchCeiling";

    // The broker's COPY column list (src/Grains/Storage/PostgresMessageStore.cs), into the scratch table.
    private const string CopyCommand =
        $"COPY {Table} (topic, queue_id, queue_offset, msg_id, tag, keys, body, properties, born_at, stored_at, reconsume_times, producer_group, born_host) FROM STDIN (FORMAT BINARY)";

    private readonly Settings _settings;
    private readonly LatencyHistogram _commits = new();
    private readonly byte[] _body;
    private readonly string _host = Environment.MachineName;
    private long _written;

    private PgCeilingBench(Settings settings)
    {
        _settings = settings;
        _body = BenchCommands.Body(settings.Size);
    }

    public static Command Create()
    {
        var postgres = new Option<string>("--postgres")
        {
            Description = $"Npgsql connection string (default ${PostgresVariable}, else {DefaultConnectionString})",
            HelpName = "conn",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultConnectionString,
        };
        var rows = new Option<int>("--rows") { Description = "Rows to write in all", DefaultValueFactory = _ => 200_000 };
        var size = BenchCommands.SizeOption();
        var batch = new Option<int>("--batch") { Description = "Rows per transaction (one COPY and one commit each)", DefaultValueFactory = _ => 100 };
        var connections = new Option<int>("--connections") { Description = "Parallel connections, each committing its own transactions", DefaultValueFactory = _ => 3 };
        var keys = new Option<bool>("--keys") { Description = "Give every row one business key (order-<n>), as a send with --keys does" };
        var indexes = new Option<string>("--indexes")
        {
            Description = "Indexes of the scratch table: all (as omq_message: primary key, msg_id, keys) or primary-key (the fence only), to measure what the query indexes cost",
            DefaultValueFactory = _ => "all",
        };
        indexes.AcceptOnlyFromAmong("all", "primary-key");
        var json = BenchCommands.JsonOption();

        var command = new Command("pg-ceiling",
            $"""
            Measure the Postgres ceiling: binary COPY of message rows shaped like the broker's, in transactions of --batch rows
            from --connections connections, into a scratch table {Table} (LIKE omq_message) that is dropped afterwards.
            Does not use the broker. Example: orleansmq bench pg-ceiling --batch 4 --connections 8
            What the query indexes cost: orleansmq bench pg-ceiling --keys --indexes primary-key, then --indexes all
            """)
        {
            postgres, rows, size, batch, connections, keys, indexes, json,
        };
        command.SetCliAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                ConnectionString: parse.GetRequiredValue(postgres),
                Rows: BenchCommands.AtLeast(parse.GetValue(rows), 1, "--rows"),
                Size: BenchCommands.AtLeast(parse.GetValue(size), 1, "--size"),
                Batch: BenchCommands.AtLeast(parse.GetValue(batch), 1, "--batch"),
                Connections: BenchCommands.AtLeast(parse.GetValue(connections), 1, "--connections"),
                Keys: parse.GetValue(keys),
                AllIndexes: parse.GetValue(indexes) == "all");
            var bench = new PgCeilingBench(settings);
            var elapsed = await bench.RunAsync(cancellationToken);
            bench.Report(elapsed).Print(parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private async Task<TimeSpan> RunAsync(CancellationToken cancellationToken)
    {
        await using var dataSource = CreateDataSource(_settings.ConnectionString);
        var where = Describe(_settings.ConnectionString);
        var create = _settings.AllIndexes
            ? $"CREATE TABLE {Table} (LIKE omq_message INCLUDING ALL)"
            : $"CREATE TABLE {Table} (LIKE omq_message INCLUDING ALL EXCLUDING INDEXES, PRIMARY KEY (topic, queue_id, queue_offset))";
        await Guard(where, () => Execute(dataSource, $"DROP TABLE IF EXISTS {Table}; {create}", cancellationToken));
        try
        {
            Output.Note($"bench pg-ceiling: {where}, {_settings.Rows:N0} rows of {_settings.Size} B{(_settings.Keys ? " with a key each" : "")}, " +
                        $"{_settings.Batch} rows per commit, {_settings.Connections} connection(s), indexes: {(_settings.AllIndexes ? "all of omq_message" : "primary key only")}");
            var started = Stopwatch.GetTimestamp();
            long lastCount = 0, lastTimestamp = started;
            await using (BenchProgress.Start(elapsed =>
                $"copy {elapsed.TotalSeconds:0}s: {BenchProgress.Rate(Interlocked.Read(ref _written), ref lastCount, ref lastTimestamp)} rows/s, {Interlocked.Read(ref _written):N0} written"))
            {
                var perConnection = Enumerable.Range(0, _settings.Connections)
                    .Select(i => _settings.Rows / _settings.Connections + (i < _settings.Rows % _settings.Connections ? 1 : 0))
                    .ToArray();
                await Guard(where, () => Task.WhenAll(perConnection.Select((count, queueId) => WriteAsync(dataSource, queueId, count, cancellationToken))));
            }
            return Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            await Guard(where, () => Execute(dataSource, $"DROP TABLE IF EXISTS {Table}", CancellationToken.None));
        }
    }

    /// <summary>One connection's share: transactions of <see cref="Settings.Batch"/> rows, each one COPY and one commit.</summary>
    private async Task WriteAsync(NpgsqlDataSource dataSource, int queueId, int rows, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        for (var offset = 0L; offset < rows;)
        {
            var count = (int)Math.Min(_settings.Batch, rows - offset);
            var started = Stopwatch.GetTimestamp();
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
            {
                await using (var importer = await connection.BeginBinaryImportAsync(CopyCommand, cancellationToken))
                {
                    var storedAt = DateTime.UtcNow;
                    for (var i = 0; i < count; i++)
                    {
                        await WriteRowAsync(importer, queueId, offset + i, storedAt, cancellationToken);
                    }
                    await importer.CompleteAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
            }
            _commits.Record(started, Stopwatch.GetTimestamp());
            offset += count;
            Interlocked.Add(ref _written, count);
        }
    }

    // The row a plain send (no tag or properties; a key with --keys) becomes, as PostgresMessageStore.CopyRowsAsync writes it.
    private async Task WriteRowAsync(NpgsqlBinaryImporter importer, int queueId, long queueOffset, DateTime storedAt, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(Topic, NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(queueId, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteAsync(queueOffset, NpgsqlDbType.Bigint, cancellationToken);
        await importer.WriteAsync(MessageIds.NewId(), NpgsqlDbType.Text, cancellationToken);
        await importer.WriteNullAsync(cancellationToken);
        if (_settings.Keys)
        {
            await importer.WriteAsync(new[] { $"order-{queueId}-{queueOffset}" }, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
        }
        else
        {
            await importer.WriteNullAsync(cancellationToken);
        }
        await importer.WriteAsync(_body, NpgsqlDbType.Bytea, cancellationToken);
        await importer.WriteNullAsync(cancellationToken);
        await importer.WriteAsync(storedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(storedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(0, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteNullAsync(cancellationToken);
        await importer.WriteAsync(_host, NpgsqlDbType.Text, cancellationToken);
    }

    private BenchReport Report(TimeSpan elapsed)
    {
        var seconds = elapsed.TotalSeconds;
        return new BenchReport("pg-ceiling")
            .Count("rows", "rows", _written)
            .Count("size", "body size (bytes)", _settings.Size)
            .Count("batch", "rows per commit", _settings.Batch)
            .Count("connections", "connections", _settings.Connections)
            .Count("keys", "keys per row", _settings.Keys ? 1 : 0)
            .Count("queryIndexes", "query indexes (msg_id, keys)", _settings.AllIndexes ? 1 : 0)
            .Number("seconds", "elapsed", seconds, "0.00", "s")
            .Number("rowsPerSecond", "throughput", _written / seconds, "N0", "rows/s")
            .Number("megabytesPerSecond", "throughput", _written * (double)_settings.Size / seconds / (1024 * 1024), "0.00", "MB/s")
            .Number("microsecondsPerRow", "time per row per connection", _written > 0 ? seconds * 1e6 * _settings.Connections / _written : 0, "0.0", "µs")
            .Latency("commit", "commit latency", _commits);
    }

    private static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        try
        {
            return NpgsqlDataSource.Create(connectionString);
        }
        catch (ArgumentException e)
        {
            throw CliErrors.BadArgument($"--postgres is not a valid Npgsql connection string: {e.Message}");
        }
    }

    private static async Task Execute(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Npgsql failures as the CLI's error kinds: a missing schema is bad input, anything else an unavailable store.</summary>
    private static async Task Guard(string where, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new MQException(MQErrorCode.InvalidArgument,
                $"{where} has no omq_message table; point --postgres at the broker's database (a silo creates the schema at start-up, or run sql/*.sql)", e);
        }
        catch (NpgsqlException e)
        {
            throw new MQException(MQErrorCode.StoreUnavailable, $"Postgres at {where} failed: {e.Message}", e);
        }
    }

    private static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private sealed record Settings(string ConnectionString, int Rows, int Size, int Batch, int Connections, bool Keys, bool AllIndexes);
}
