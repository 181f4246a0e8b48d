using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Client;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Topics;

namespace OrleansMQ.Tests.Client;

/// <summary>
/// The producer's route cache, on a clock the test moves: a send waits for the broker only when no route is
/// known; an old route keeps serving while a fresh one is fetched in the background, one fetch at a time.
/// </summary>
public sealed class UnitTopicRouteCacheTests
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    private readonly ManualClock _clock = new();
    private int _fetches;
    private int _queues = 4;
    private Func<Task>? _beforeAnswer;

    private TopicRouteCache Cache() => new(async topic =>
    {
        Interlocked.Increment(ref _fetches);
        var queues = _queues; // read when the fetch starts, as the broker would answer
        if (_beforeAnswer is { } wait) await wait();
        return new TopicRoute(topic, queues, TopicPermission.ReadWrite, TopicMessageType.Normal);
    }, RefreshInterval, NullLogger.Instance, _clock);

    [Fact]
    public async Task The_first_send_fetches_the_route_and_later_sends_within_the_interval_use_the_cached_one()
    {
        var cache = Cache();

        var first = await cache.GetAsync("t", CancellationToken.None);
        _clock.Advance(RefreshInterval - TimeSpan.FromSeconds(1));
        var second = await cache.GetAsync("t", CancellationToken.None);

        Assert.Equal(1, _fetches);
        Assert.Same(first, second);
        Assert.Equal(4, first.Queues.Count);
        Assert.Equal([0, 1, 2, 3], first.Queues.Select(q => q.QueueId));
    }

    [Fact]
    public async Task An_old_route_keeps_serving_while_a_fresh_one_is_fetched_in_the_background()
    {
        var cache = Cache();
        var old = await cache.GetAsync("t", CancellationToken.None);
        _clock.Advance(RefreshInterval);
        _queues = 8;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _beforeAnswer = () => hold.Task;

        var duringRefresh = await cache.GetAsync("t", CancellationToken.None).AsTask().WaitAsync(Guard);
        var alsoDuringRefresh = await cache.GetAsync("t", CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Same(old, duringRefresh);
        Assert.Same(old, alsoDuringRefresh);
        Assert.Equal(2, _fetches); // one background fetch, however many sends asked meanwhile

        hold.SetResult();
        var fresh = await Eventually.PollAsync(() => cache.GetAsync("t", CancellationToken.None).AsTask(), info => info.Queues.Count == 8, Guard, "the refreshed route");
        Assert.Same(old.Picker, fresh.Picker); // the round-robin continues where it was
        Assert.Equal(2, _fetches);
    }

    [Fact]
    public async Task Concurrent_first_sends_share_one_fetch()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _beforeAnswer = () => hold.Task;
        var cache = Cache();

        var waiting = Enumerable.Range(0, 20).Select(_ => cache.GetAsync("t", CancellationToken.None).AsTask()).ToList();
        hold.SetResult();
        var infos = await Task.WhenAll(waiting).WaitAsync(Guard);

        Assert.Equal(1, _fetches);
        Assert.All(infos, info => Assert.Same(infos[0], info));
    }

    [Fact]
    public async Task After_an_invalidation_the_next_send_waits_for_a_fresh_route()
    {
        var cache = Cache();
        await cache.GetAsync("t", CancellationToken.None);
        _queues = 2;

        cache.Invalidate("t");
        var fresh = await cache.GetAsync("t", CancellationToken.None);

        Assert.Equal(2, _fetches);
        Assert.Equal(2, fresh.Queues.Count);
    }

    [Fact]
    public async Task A_refresh_that_fails_transiently_keeps_the_old_route()
    {
        var cache = Cache();
        var old = await cache.GetAsync("t", CancellationToken.None);
        _clock.Advance(RefreshInterval);
        _beforeAnswer = () => throw new TimeoutException("the broker is slow");

        Assert.Same(old, await cache.GetAsync("t", CancellationToken.None));
        await Eventually.PollAsync(() => Task.FromResult(_fetches), n => n == 2, Guard, "the background refresh");
        _beforeAnswer = null;

        // The failed refresh left the route in place and marked nothing fresh: a later send tries again, and succeeds.
        _queues = 8;
        var fresh = await Eventually.PollAsync(() => cache.GetAsync("t", CancellationToken.None).AsTask(), info => info.Queues.Count == 8, Guard, "a later refresh");
        Assert.Equal(3, _fetches);
        Assert.Same(old.Picker, fresh.Picker);
    }

    [Fact]
    public async Task A_topic_deleted_meanwhile_drops_the_route_so_sends_fail_with_TopicDeleted()
    {
        var deleted = false;
        var fetches = 0;
        var cache = new TopicRouteCache(topic =>
        {
            fetches++;
            return deleted
                ? Task.FromException<TopicRoute>(new MQException(MQErrorCode.TopicDeleted, $"topic '{topic}' was deleted"))
                : Task.FromResult(new TopicRoute(topic, 4, TopicPermission.ReadWrite, TopicMessageType.Normal));
        }, RefreshInterval, NullLogger.Instance, _clock);
        await cache.GetAsync("t", CancellationToken.None);
        _clock.Advance(RefreshInterval);
        deleted = true;

        await cache.GetAsync("t", CancellationToken.None); // still served, triggers the refresh
        await Eventually.PollAsync(() => Task.FromResult(fetches), n => n == 2, Guard, "the background refresh");

        var code = await Eventually.PollAsync(async () =>
        {
            try
            {
                await cache.GetAsync("t", CancellationToken.None);
                return (MQErrorCode?)null;
            }
            catch (MQException e)
            {
                return e.Code;
            }
        }, c => c is not null, Guard, "sends to fail once the refresh saw the deletion");
        Assert.Equal(MQErrorCode.TopicDeleted, code);
    }

    [Fact]
    public async Task A_route_with_no_queues_is_refused_with_TopicNotFound()
    {
        _queues = 0;
        var cache = Cache();

        var error = await Assert.ThrowsAsync<MQException>(async () => await cache.GetAsync("t", CancellationToken.None));
        Assert.Equal(MQErrorCode.TopicNotFound, error.Code);
    }
}
