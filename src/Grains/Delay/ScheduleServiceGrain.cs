using Microsoft.Extensions.Options;
using OrleansMQ.Delay;
using Orleans.Concurrency;

namespace OrleansMQ.Grains.Delay;

/// <summary>Cluster-wide schedule reads for operators and clients; derived on each call from the level and timer grains.</summary>
[StatelessWorker]
internal sealed class ScheduleServiceGrain(IOptions<BrokerOptions> options) : Grain, IScheduleServiceGrain
{
    public Task<DelayLevelTable> GetDelayTable() => Task.FromResult(options.Value.DelayTable);

    public async Task<IReadOnlyList<ScheduleStatus>> GetStatus()
    {
        var levels = Enumerable.Range(1, options.Value.DelayTable.Count).Select(l => GrainFactory.GetGrain<IDelayLevelGrain>(l).GetStatus());
        var timers = Enumerable.Range(0, ScheduleTopics.TimerQueues).Select(q => GrainFactory.GetGrain<ITimerGrain>(q).GetStatus());
        return await Task.WhenAll(levels.Concat(timers));
    }
}
