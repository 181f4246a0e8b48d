using OrleansMQ.Messages;

namespace OrleansMQ.Filtering;

/// <summary>
/// A compiled subscription filter: what the broker evaluates for each message it scans on a pull, and what the
/// client compiles first so a malformed expression fails at <c>Subscribe</c>, before anything is sent.
/// </summary>
public abstract class MessageFilter
{
    private protected MessageFilter(string text) => Text = text;

    /// <summary>The expression as written (trimmed).</summary>
    public string Text { get; }

    /// <summary>The expression's language.</summary>
    public abstract ExpressionType Type { get; }

    /// <summary>Whether every message passes, so the broker can skip evaluating it.</summary>
    public abstract bool MatchesAll { get; }

    /// <summary>Whether a message with this tag and these user properties passes.</summary>
    public abstract bool Matches(string? tag, IReadOnlyDictionary<string, string>? properties);

    /// <summary>Whether a stored message passes.</summary>
    public bool Matches(MessageExt message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Matches(message.Tag, message.Properties);
    }

    /// <summary>Compiles an expression of the given type.</summary>
    /// <exception cref="MQException">InvalidFilterExpression, naming what is wrong and where.</exception>
    public static MessageFilter Compile(ExpressionType type, string? expression) => type switch
    {
        ExpressionType.Tag => TagExpression.Parse(expression),
        ExpressionType.Sql92 => SqlExpression.Parse(expression),
        _ => throw new MQException(MQErrorCode.InvalidFilterExpression, $"expression type {(int)type} is unknown; allowed: Tag, Sql92"),
    };

    /// <inheritdoc />
    public override string ToString() => Text;
}
