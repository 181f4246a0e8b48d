using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using OrleansMQ.Grains.Retention;
using OrleansMQ.Grains.Delay;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Grains.Transactions;

namespace OrleansMQ.Grains.Hosting;

/// <summary>Adds the OrleansMQ broker (grains and their Postgres stores) to a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Adds the broker to the silo. Clustering is configured separately (ADO.NET clustering on the
    /// same Postgres in production, whatever the host chooses in tests). Apply the schema with
    /// <see cref="SchemaInstaller.ApplyAsync"/> before the silo starts.
    /// </summary>
    public static ISiloBuilder UseOrleansMQ(this ISiloBuilder builder, Action<BrokerOptions> configure)
    {
        builder.Services.AddOptions<BrokerOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Postgres), "OrleansMQ:Postgres (--postgres) is required: the Npgsql connection string of the store")
            .Validate(o => o.DefaultTopicQueues is >= 1 and <= Validation.Limits.MaxQueues, "OrleansMQ:DefaultTopicQueues must be 1 to 1024")
            .Validate(o => o.MaxBodyBytes >= 1 && o.MaxBatchBytes >= o.MaxBodyBytes, "OrleansMQ:MaxBodyBytes must be positive and not above MaxBatchBytes")
            .Validate(o => o.CommitConcurrency is >= 1 and <= 64, "OrleansMQ:CommitConcurrency must be 1 to 64")
            .Validate(o => o.TailCacheMessages >= 0, "OrleansMQ:TailCacheMessages must not be negative")
            .Validate(o => o.ReadAheadBytes >= 0, "OrleansMQ:ReadAheadBytes must not be negative")
            .Validate(o => o.MaxRowsPerCommit >= 1, "OrleansMQ:MaxRowsPerCommit must be positive")
            .Validate(o => o.MaxPullSuspend > TimeSpan.Zero && o.MaxPullSuspend < TimeSpan.FromSeconds(30), "OrleansMQ:MaxPullSuspend must be between 0 and Orleans' 30 s call timeout")
            .Validate(o => o.ShortPollingTime > TimeSpan.Zero && o.ShortPollingTime <= o.MaxPullSuspend, "OrleansMQ:ShortPollingTime must be positive and not above MaxPullSuspend")
            .Validate(o => o.OffsetFlushInterval > TimeSpan.Zero && o.ConsumerExpiry > TimeSpan.Zero, "OrleansMQ:OffsetFlushInterval and ConsumerExpiry must be positive")
            .Validate(o => o.RetentionSweepInterval > TimeSpan.Zero && o.RetentionDeleteBatch >= 1, "OrleansMQ:RetentionSweepInterval and RetentionDeleteBatch must be positive")
            .Validate(o => DelayTableIsValid(o.DelayLevels), "OrleansMQ:DelayLevels must be 1 to 64 delays such as \"1s 5s 10s 30s 1m\" (units ms, s, m, h, d)")
            .Validate(o => o.TimerHorizon > TimeSpan.Zero && o.TimerHorizon <= OrleansMQ.Delay.ScheduleTopics.MaxTimerHorizon, "OrleansMQ:TimerHorizon must be positive and at most 30 days")
            .Validate(o => o.ScheduleWakeInterval > TimeSpan.Zero, "OrleansMQ:ScheduleWakeInterval must be positive")
            .Validate(o => o.QueueLockLease >= TimeSpan.FromMilliseconds(200), "OrleansMQ:QueueLockLease must be at least 200 ms")
            .Validate(o => o.TransactionTimeout > TimeSpan.Zero && o.TransactionTimeout <= TimeSpan.FromDays(1), "OrleansMQ:TransactionTimeout must be positive and at most a day")
            .Validate(o => o.TransactionCheckInterval > TimeSpan.Zero && o.TransactionCheckInterval <= TimeSpan.FromDays(1), "OrleansMQ:TransactionCheckInterval must be positive and at most a day")
            .Validate(o => o.TransactionCheckMax is >= 1 and <= 1000, "OrleansMQ:TransactionCheckMax must be 1 to 1000")
            .Validate(o => o.ProducerExpiry > TimeSpan.Zero, "OrleansMQ:ProducerExpiry must be positive")
            .Validate(o => o.TransactionRecordRetention > TimeSpan.Zero, "OrleansMQ:TransactionRecordRetention must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => CreateDataSource(sp.GetRequiredService<IOptions<BrokerOptions>>().Value.Postgres));
        builder.Services.AddSingleton<GroupCommitWriter>();
        builder.Services.AddSingleton<IMessageStore, PostgresMessageStore>();
        builder.Services.AddSingleton<IOffsetStore, PostgresOffsetStore>();
        builder.Services.AddSingleton<ITopicStore, PostgresTopicStore>();
        builder.Services.AddSingleton<IMessageQueryStore, PostgresMessageQueryStore>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RetentionSweeper>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RetentionService>();
        builder.AddOrleansMQSchedules();
        builder.AddOrleansMQTransactions();
        builder.Services.AddSingleton<IConsumerGroupStore, PostgresConsumerGroupStore>();
        builder.Services.AddSingleton<IBroadcastOffsetStore, PostgresBroadcastOffsetStore>();
        return builder;
    }

    /// <summary>
    /// The broker's data source. Connections skip Npgsql's reset on return to the pool: the stores set no session
    /// state (no SET, advisory locks released explicitly), and the reset is a DISCARD ALL sent ahead of the next
    /// statement, one more statement for Postgres on every group commit and every read. The stores' few statements
    /// (pull reads, offsets, bounds) run thousands of times a second, so Npgsql prepares them automatically: Postgres
    /// then skips parsing and planning them (10 % less Postgres CPU per message for 32-message pulls, BENCHMARKS.md).
    /// A connection string that sets <c>Max Auto Prepare</c> keeps its own value; <c>Max Auto Prepare=0</c> turns it
    /// off, as a PgBouncer in transaction mode older than 1.21 needs.
    /// </summary>
    internal static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;
        settings.NoResetOnClose = true;
        // Npgsql's own builder answers ContainsKey for every keyword it knows, so look at what the string itself says.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            settings.MaxAutoPrepare = 32;
            settings.AutoPrepareMinUsages = 2;
        }
        return builder.Build();
    }

    private static bool DelayTableIsValid(string? text)
    {
        try
        {
            OrleansMQ.Delay.DelayLevelTable.Parse(text);
            return true;
        }
        catch (MQException)
        {
            return false;
        }
    }
}
