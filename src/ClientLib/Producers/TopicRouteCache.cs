using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OrleansMQ.Messages;
using OrleansMQ.Topics;

namespace OrleansMQ.Client;

/// <summary>What a producer knows about a topic: its route, its queues and where its round-robin stands (RocketMQ's TopicPublishInfo).</summary>
internal sealed class TopicPublishInfo
{
    public TopicPublishInfo(TopicRoute route, RoundRobinQueuePicker picker)
    {
        Route = route;
        Picker = picker;
        Queues = [.. Enumerable.Range(0, route.Queues).Select(id => new MessageQueue(route.Topic, id))];
    }

    public TopicRoute Route { get; }

    /// <summary>The topic's queues, sorted by id.</summary>
    public IReadOnlyList<MessageQueue> Queues { get; }

    /// <summary>The topic's round-robin; shared by successive routes of the topic so a refresh does not restart it.</summary>
    public RoundRobinQueuePicker Picker { get; }
}

/// <summary>
/// The producer's topic routes: fetched from the topic grain on first use, served from memory after that,
/// fetched again in the background once older than the refresh interval (the stale route keeps serving
/// meanwhile) and at once after <see cref="Invalidate"/> (a send hit QueueNotFound: the queue count shrank).
/// One fetch per topic at a time.
/// </summary>
internal sealed class TopicRouteCache
{
    private readonly Func<string, Task<TopicRoute>> _fetch;
    private readonly TimeSpan _refreshInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <param name="fetch">Gets a topic's route from the broker (<c>ITopicGrain.GetRoute</c>).</param>
    /// <param name="refreshInterval">Age after which a route is fetched again.</param>
    /// <param name="logger">Where failed background refreshes are reported.</param>
    /// <param name="time">The clock (tests pass a fake one).</param>
    public TopicRouteCache(Func<string, Task<TopicRoute>> fetch, TimeSpan refreshInterval, ILogger logger, TimeProvider? time = null)
    {
        _fetch = fetch;
        _refreshInterval = refreshInterval;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The topic's route; waits for the broker only when none is cached (or it was invalidated).</summary>
    /// <exception cref="MQException">TopicNotFound / TopicDeleted from the broker, or BrokerUnavailable.</exception>
    public ValueTask<TopicPublishInfo> GetAsync(string topic, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(topic, static _ => new Entry());
        TopicPublishInfo? info;
        Task<TopicPublishInfo>? refreshing;
        TaskCompletionSource<TopicPublishInfo>? started = null;
        lock (entry)
        {
            info = entry.Info;
            var stale = info is null || _time.GetElapsedTime(entry.FetchedAt) >= _refreshInterval;
            if (stale && entry.Refreshing is null)
            {
                // Started outside the lock: a fetch that completes synchronously must not find its own lock held with half-set state.
                started = new TaskCompletionSource<TopicPublishInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
                entry.Refreshing = started.Task;
            }
            refreshing = entry.Refreshing;
        }
        if (started is not null)
        {
            _ = RefreshAsync(topic, entry, started);
        }
        return info is not null ? new ValueTask<TopicPublishInfo>(info) : new ValueTask<TopicPublishInfo>(refreshing!.WaitAsync(cancellationToken));
    }

    /// <summary>Forgets the topic's route, so the next send waits for a fresh one.</summary>
    public void Invalidate(string topic)
    {
        if (_entries.TryGetValue(topic, out var entry))
        {
            lock (entry)
            {
                entry.Info = null;
            }
        }
    }

    private async Task RefreshAsync(string topic, Entry entry, TaskCompletionSource<TopicPublishInfo> completion)
    {
        try
        {
            var route = await BrokerErrors.Call(() => _fetch(topic), $"get the route of topic '{topic}'", CancellationToken.None).ConfigureAwait(false);
            if (route.Queues <= 0)
            {
                throw new MQException(MQErrorCode.TopicNotFound, $"topic '{topic}' has no queues");
            }
            var info = new TopicPublishInfo(route, entry.Picker);
            lock (entry)
            {
                entry.Info = info;
                entry.FetchedAt = _time.GetTimestamp();
                entry.Refreshing = null;
            }
            completion.TrySetResult(info);
        }
        catch (Exception ex)
        {
            bool keptStale;
            lock (entry)
            {
                entry.Refreshing = null;
                if (ex is MQException { Code: MQErrorCode.TopicNotFound or MQErrorCode.TopicDeleted })
                {
                    entry.Info = null;
                }
                keptStale = entry.Info is not null;
            }
            if (keptStale)
            {
                _logger.RouteRefreshFailed(topic, ex.Message);
            }
            completion.TrySetException(ex);
            // A background refresh may have no awaiter; reading the exception keeps it from surfacing as unobserved.
            _ = completion.Task.Exception;
        }
    }

    private sealed class Entry
    {
        public readonly RoundRobinQueuePicker Picker = new();
        public TopicPublishInfo? Info;
        public long FetchedAt;
        public Task<TopicPublishInfo>? Refreshing;
    }
}
