using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansMQ.Broadcasting;
using OrleansMQ.Grains.Storage;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Grains.Broadcasting;

/// <summary>
/// One broadcasting instance's offsets: loaded from Postgres on activation, kept in memory, written when changed
/// every <see cref="BrokerOptions.OffsetFlushInterval"/>, on deactivation, and at once on a flushing commit (an
/// instance's shutdown or a queue it gives up) — as the queue grain does for clustering offsets.
/// </summary>
internal sealed partial class BroadcastOffsetGrain(IBroadcastOffsetStore store, IOptions<BrokerOptions> options, ILogger<BroadcastOffsetGrain> logger)
    : Grain, IBroadcastOffsetGrain
{
    private readonly Dictionary<MessageQueue, long> _offsets = [];
    private readonly HashSet<MessageQueue> _dirty = [];
    private string _group = "";
    private string _instanceName = "";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_group, _instanceName) = BroadcastOffsetKey.Parse(this.GetPrimaryKeyString());
        Names.CheckGroup(_group);
        foreach (var (queue, offset) in await store.LoadAsync(_group, _instanceName, cancellationToken))
        {
            _offsets[queue] = offset;
        }
        var interval = options.Value.OffsetFlushInterval;
        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(interval, interval) { Interleave = false });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    public Task<long> GetOffset(MessageQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return Task.FromResult(_offsets.TryGetValue(queue, out var offset) ? offset : -1);
    }

    public async Task Commit(MessageQueue queue, long offset, bool flush)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Names.CheckExistingTopic(queue.Topic);
        if (offset < 0)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"offset {offset} on {queue} is negative; a committed offset is the next offset to consume");
        }
        if (!_offsets.TryGetValue(queue, out var current) || current != offset)
        {
            _offsets[queue] = offset;
            _dirty.Add(queue);
        }
        if (flush)
        {
            await FlushAsync(CancellationToken.None);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_dirty.Count == 0) return;
        var batch = _dirty.Select(q => new KeyValuePair<MessageQueue, long>(q, _offsets[q])).ToList();
        _dirty.Clear();
        try
        {
            await store.SaveAsync(_group, _instanceName, batch, cancellationToken);
        }
        catch (Exception e)
        {
            foreach (var (queue, _) in batch) _dirty.Add(queue);
            LogFlushFailed(e, _group, _instanceName);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broadcast offsets of {Group}@{Instance}: flush failed; retrying on the next one")]
    private partial void LogFlushFailed(Exception exception, string group, string instance);
}
