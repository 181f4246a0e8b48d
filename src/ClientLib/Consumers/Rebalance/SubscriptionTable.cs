using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Validation;

namespace OrleansMQ.Client;

/// <summary>A consumer's subscriptions (topic → tag expression), safe to read while <c>Subscribe</c> adds to it.</summary>
internal sealed class SubscriptionTable
{
    private volatile IReadOnlyDictionary<string, TagExpression> _byTopic = new Dictionary<string, TagExpression>(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Validates and adds (or replaces) a subscription.</summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidFilterExpression.</exception>
    public void Add(string topic, string? tagExpression)
    {
        Names.CheckExistingTopic(topic);
        var expression = TagExpression.Parse(tagExpression);
        lock (_gate)
        {
            _byTopic = new Dictionary<string, TagExpression>(_byTopic, StringComparer.Ordinal) { [topic] = expression };
        }
    }

    public int Count => _byTopic.Count;

    /// <summary>The subscribed topics, sorted ordinally.</summary>
    public IReadOnlyList<string> Topics => [.. _byTopic.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The tag expression a pull request carries: null for "everything".</summary>
    public string? PullFilter(string topic) =>
        _byTopic.TryGetValue(topic, out var expression) && !expression.MatchesAll ? expression.Text : null;

    /// <summary>The subscriptions as a heartbeat reports them, sorted by topic.</summary>
    public IReadOnlyList<Subscription> ToHeartbeat() =>
        [.. _byTopic.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new Subscription(p.Key, p.Value.Text))];
}
