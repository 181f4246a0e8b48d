using OrleansMQ.Topics;

namespace OrleansMQ.Grains.Delay;

/// <summary>Routes of real topics, as a schedule grain checks destinations: re-read after a few seconds so a deleted or resized topic is noticed.</summary>
internal sealed class RouteCache(IGrainFactory grains)
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, (TopicRoute Route, DateTime ReadAt)> _routes = new(StringComparer.Ordinal);

    public async Task<TopicRoute> GetAsync(string topic)
    {
        if (_routes.TryGetValue(topic, out var cached) && DateTime.UtcNow - cached.ReadAt < Freshness)
        {
            return cached.Route;
        }
        var route = await grains.GetGrain<ITopicGrain>(topic).GetRoute(false);
        if (_routes.Count > 4096) _routes.Clear();
        _routes[topic] = (route, DateTime.UtcNow);
        return route;
    }
}
