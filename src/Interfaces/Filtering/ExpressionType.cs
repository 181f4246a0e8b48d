namespace OrleansMQ.Filtering;

/// <summary>
/// The language a subscription's filter expression is written in, as RocketMQ's <c>ExpressionType</c>.
/// The numbers cross the grain boundary (pull requests, heartbeats): never renumber them.
/// </summary>
public enum ExpressionType
{
    /// <summary>A tag expression: <c>*</c>, <c>A</c>, <c>A || B</c> (see <see cref="TagExpression"/>).</summary>
    Tag = 0,

    /// <summary>An SQL92 condition over the message's properties (see <see cref="SqlExpression"/>).</summary>
    Sql92 = 1,
}
