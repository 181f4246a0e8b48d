using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.TestingHost;
using OrleansMQ.Grains.Hosting;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// Broker settings of the test silos: short intervals so offset flushes and consumer expiry are
/// observable within seconds, and a small tail cache so reads from Postgres are easy to provoke.
/// </summary>
public sealed class TestSiloConfigurator : ISiloConfigurator
{
    public const string PostgresKey = "OrleansMQTests:Postgres";

    public static readonly TimeSpan OffsetFlushInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ConsumerExpiry = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan QueueLockLease = TimeSpan.FromSeconds(4);
    public const int TailCacheMessages = 64;

    /// <summary>18 short delay levels (200 ms apart), so retry ladders and every level run in seconds.</summary>
    public const string DelayLevels = "200ms 400ms 600ms 800ms 1s 1200ms 1400ms 1600ms 1800ms 2s 2200ms 2400ms 2600ms 2800ms 3s 3200ms 3400ms 3600ms";

    /// <summary>Schedules whose activation died are woken within this.</summary>
    public static readonly TimeSpan ScheduleWakeInterval = TimeSpan.FromSeconds(1);

    /// <summary>Transactions are first checked back 500 ms after their half message, then every 500 ms, at most 3 times.</summary>
    public static readonly TimeSpan TransactionTimeout = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan TransactionCheckInterval = TimeSpan.FromMilliseconds(500);

    public const int TransactionCheckMax = 3;

    public void Configure(ISiloBuilder siloBuilder)
    {
        var postgres = siloBuilder.Configuration[PostgresKey]
            ?? throw new InvalidOperationException($"the test cluster was built without '{PostgresKey}'");
        siloBuilder.UseOrleansMQ(o =>
        {
            o.Postgres = postgres;
            o.AutoCreateTopics = true;
            o.OffsetFlushInterval = OffsetFlushInterval;
            o.ConsumerExpiry = ConsumerExpiry;
            o.QueueLockLease = QueueLockLease;
            o.TailCacheMessages = TailCacheMessages;
            o.DelayLevels = DelayLevels;
            o.ScheduleWakeInterval = ScheduleWakeInterval;
            o.TransactionTimeout = TransactionTimeout;
            o.TransactionCheckInterval = TransactionCheckInterval;
            o.TransactionCheckMax = TransactionCheckMax;
        });
    }
}

/// <summary>Client calls fail after 10 s instead of Orleans' 30 s, so a response lost with a stopping silo is retried soon.</summary>
public sealed class ShortTimeoutClientConfigurator : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
        clientBuilder.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
}
