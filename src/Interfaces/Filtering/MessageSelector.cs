namespace OrleansMQ.Filtering;

/// <summary>
/// What a consumer subscribes with, as RocketMQ's <c>MessageSelector</c>: a tag expression
/// (<c>MessageSelector.ByTag("created || paid")</c>) or an SQL92 condition over user properties
/// (<c>MessageSelector.BySql("amount &gt; 100 AND region IN ('eu', 'us')")</c>). Either is evaluated on the
/// broker, so messages that do not match never cross the network. See docs/filtering.md.
/// </summary>
public sealed record MessageSelector
{
    private MessageSelector(ExpressionType type, string expression)
    {
        Type = type;
        Expression = expression;
    }

    /// <summary>Every message of the topic (the tag expression <c>*</c>).</summary>
    public static MessageSelector All { get; } = new(ExpressionType.Tag, "*");

    /// <summary>The expression's language.</summary>
    public ExpressionType Type { get; }

    /// <summary>The expression as written.</summary>
    public string Expression { get; }

    /// <summary>A tag expression: <c>*</c> (or null / empty) for every message, or tags joined by <c>||</c>.</summary>
    public static MessageSelector ByTag(string? tagExpression) =>
        string.IsNullOrWhiteSpace(tagExpression) ? All : new(ExpressionType.Tag, tagExpression.Trim());

    /// <summary>
    /// An SQL92 condition over the message's user properties (and <c>TAGS</c>, the message's tag). It is checked
    /// when the consumer subscribes with it (<see cref="Compile"/>).
    /// </summary>
    public static MessageSelector BySql(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return new(ExpressionType.Sql92, sql.Trim());
    }

    /// <summary>Compiles the expression; what a consumer does at <c>Subscribe</c> and the broker on a pull.</summary>
    /// <exception cref="MQException">InvalidFilterExpression, naming what is wrong and where.</exception>
    public MessageFilter Compile() => MessageFilter.Compile(Type, Expression);

    /// <inheritdoc />
    public override string ToString() => Describe(Type, Expression);

    /// <summary>How logs, <c>group describe</c> and errors show an expression: tags as written, SQL as <c>SQL92: a &gt; 5</c>.</summary>
    public static string Describe(ExpressionType type, string expression) => type switch
    {
        ExpressionType.Tag => expression,
        ExpressionType.Sql92 => $"SQL92: {expression}",
        _ => $"{type}: {expression}",
    };
}
