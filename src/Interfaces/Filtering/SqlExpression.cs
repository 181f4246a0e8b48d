namespace OrleansMQ.Filtering;

/// <summary>
/// A subscription's SQL92 condition over a message's user properties, as RocketMQ's
/// <c>MessageSelector.bySql</c>: <c>amount &gt; 100 AND region IN ('eu', 'us') AND coupon IS NULL</c>.
/// Compiled once (the broker caches it per queue) and evaluated on the broker for each message a pull scans.
/// </summary>
/// <remarks>
/// Properties are strings; a comparison with a number compares as numbers when the property's value is one.
/// A comparison the message cannot answer (the property is missing, or not a number where one is needed) is
/// unknown, as in SQL: unknown never matches, <c>NOT unknown</c> is unknown too, and only <c>IS NULL</c> sees a
/// missing property. <c>TAGS</c> names the message's tag, as in RocketMQ. The grammar and every difference from
/// RocketMQ are in docs/filtering.md.
/// </remarks>
public sealed class SqlExpression : MessageFilter
{
    /// <summary>Longest expression accepted, in characters: a filter is a condition, not a program.</summary>
    public const int MaxLength = 4096;

    /// <summary>Deepest nesting of parentheses and NOTs accepted, so parsing never exhausts a grain's stack.</summary>
    public const int MaxNesting = 64;

    /// <summary>The name under which a filter sees the message's tag (RocketMQ's system property TAGS).</summary>
    public const string TagsProperty = "TAGS";

    private readonly SqlCondition _condition;

    private SqlExpression(string text, SqlCondition condition)
        : base(text) => _condition = condition;

    /// <inheritdoc />
    public override ExpressionType Type => ExpressionType.Sql92;

    /// <summary>Always false: even <c>TRUE</c> is evaluated, as the broker cannot know a condition holds for every message.</summary>
    public override bool MatchesAll => false;

    /// <summary>Compiles an SQL92 condition.</summary>
    /// <exception cref="MQException">InvalidFilterExpression: empty, longer than <see cref="MaxLength"/>, nested deeper
    /// than <see cref="MaxNesting"/>, or malformed (the message says what was expected and at which column).</exception>
    public static SqlExpression Parse(string? sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw new MQException(MQErrorCode.InvalidFilterExpression,
                "SQL92 filter is empty; write a condition such as \"a > 5 AND b = 'abc'\" (or subscribe by tag '*' for every message)");
        }
        if (sql.Length > MaxLength)
        {
            throw new MQException(MQErrorCode.InvalidFilterExpression,
                $"SQL92 filter is {sql.Length} characters; at most {MaxLength} are allowed");
        }
        var text = sql.Trim();
        return new SqlExpression(text, SqlParser.Parse(text));
    }

    /// <inheritdoc />
    public override bool Matches(string? tag, IReadOnlyDictionary<string, string>? properties) =>
        _condition.Evaluate(new SqlRow(tag, properties)) == true;
}

/// <summary>What a condition reads from one message: its user properties, and its tag as <c>TAGS</c>.</summary>
internal readonly struct SqlRow(string? tag, IReadOnlyDictionary<string, string>? properties)
{
    /// <summary>The named value, or null when the message has none.</summary>
    public string? Get(string name) =>
        name == SqlExpression.TagsProperty ? tag
        : properties is not null && properties.TryGetValue(name, out var value) ? value
        : null;
}
