using Microsoft.Extensions.DependencyInjection;
using OrleansMQ.Grains.Retry;

namespace OrleansMQ.Grains.Delay;

/// <summary>Adds delay levels, timer messages, retry and dead letters to the broker (called by <c>UseOrleansMQ</c>).</summary>
internal static class ScheduleSiloBuilderExtensions
{
    public static ISiloBuilder AddOrleansMQSchedules(this ISiloBuilder builder)
    {
        builder.Services.AddSingleton<IScheduleStore, PostgresScheduleStore>();
        builder.Services.AddSingleton<IDeadLetterStore, PostgresDeadLetterStore>();
        builder.Services.AddSingleton<ScheduleWatchdog>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ScheduleWatchdog>());
        return builder;
    }
}
