using OrleansMQ.ConsumerGroups;
using OrleansMQ.Filtering;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Client;

/// <summary>A consumer's subscriptions (topic → compiled filter), safe to read while <c>Subscribe</c> adds to it.</summary>
internal sealed class SubscriptionTable
{
    private volatile IReadOnlyDictionary<string, MessageFilter> _byTopic = new Dictionary<string, MessageFilter>(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>
    /// Validates and adds (or replaces) a subscription. The expression is compiled here, as the broker will compile
    /// it, so a malformed one fails at <c>Subscribe</c> before anything is sent.
    /// </summary>
    /// <exception cref="MQException">InvalidTopicName / ReservedName, InvalidFilterExpression.</exception>
    public void Add(string topic, MessageSelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        Names.CheckExistingTopic(topic);
        var filter = selector.Compile();
        lock (_gate)
        {
            _byTopic = new Dictionary<string, MessageFilter>(_byTopic, StringComparer.Ordinal) { [topic] = filter };
        }
    }

    public int Count => _byTopic.Count;

    /// <summary>The subscribed topics, sorted ordinally.</summary>
    public IReadOnlyList<string> Topics => [.. _byTopic.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The filter a pull request carries: null for "everything".</summary>
    public MessageFilter? PullFilter(string topic) =>
        _byTopic.TryGetValue(topic, out var filter) && !filter.MatchesAll ? filter : null;

    /// <summary>
    /// The messages of a pull that the topic's subscription takes now. A pull the broker held (long polling) was
    /// filtered with the expression of its time; after a <c>Subscribe</c> that replaced it, the new one decides, as
    /// RocketMQ's client re-checks tags. Messages left out are skipped like those the broker filtered.
    /// </summary>
    public IReadOnlyList<MessageExt> Refilter(string topic, MessageFilter? pulledWith, IReadOnlyList<MessageExt> messages)
    {
        var current = PullFilter(topic);
        return ReferenceEquals(current, pulledWith) || current is null ? messages : [.. messages.Where(current.Matches)];
    }

    /// <summary>The subscriptions as a heartbeat reports them, sorted by topic.</summary>
    public IReadOnlyList<Subscription> ToHeartbeat() =>
        [.. _byTopic.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new Subscription(p.Key, p.Value.Text, p.Value.Type))];
}
