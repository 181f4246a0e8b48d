namespace OrleansMQ.Filtering;

/// <summary>
/// A subscription's tag expression as RocketMQ writes it: <c>*</c> (or empty) for every message,
/// or tags joined by <c>||</c> (<c>created || paid</c>). Evaluated on the broker, so filtered-out
/// messages never cross the network.
/// </summary>
public sealed class TagExpression : MessageFilter
{
    /// <summary>Matches every message.</summary>
    public static readonly TagExpression All = new("*", null);

    private readonly HashSet<string>? _tags;

    private TagExpression(string text, HashSet<string>? tags)
        : base(text) => _tags = tags;

    /// <inheritdoc />
    public override ExpressionType Type => ExpressionType.Tag;

    /// <summary>Whether the expression matches every message.</summary>
    public override bool MatchesAll => _tags is null;

    /// <summary>The tags listed, or empty when it matches all.</summary>
    public IReadOnlyCollection<string> Tags => (IReadOnlyCollection<string>?)_tags ?? [];

    /// <summary>Parses an expression; throws <see cref="MQException"/> with <see cref="MQErrorCode.InvalidFilterExpression"/>.</summary>
    public static TagExpression Parse(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression) || expression.Trim() == "*")
        {
            return All;
        }
        var tags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in expression.Split("||"))
        {
            var tag = part.Trim();
            if (tag.Length == 0 || tag == "*" || tag.Any(char.IsWhiteSpace) || tag.Contains('|'))
            {
                throw new MQException(MQErrorCode.InvalidFilterExpression,
                    $"tag expression '{expression}' is malformed; write '*' or tags joined by '||', e.g. 'created || paid'");
            }
            tags.Add(tag);
        }
        return new TagExpression(expression.Trim(), tags);
    }

    /// <summary>Whether a message with this tag passes.</summary>
    public bool Matches(string? tag) => _tags is null || (tag is not null && _tags.Contains(tag));

    /// <inheritdoc />
    public override bool Matches(string? tag, IReadOnlyDictionary<string, string>? properties) => Matches(tag);
}
