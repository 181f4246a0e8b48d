using System.Globalization;

namespace OrleansMQ.Filtering;

// The compiled form of an SQL92 filter. Every condition answers true, false or null (unknown, SQL's
// three-valued logic): a message matches only when the whole condition is true.

/// <summary>One node of a compiled SQL92 filter.</summary>
internal abstract class SqlCondition
{
    public abstract bool? Evaluate(in SqlRow row);
}

/// <summary>
/// <c>a AND b AND …</c> (false decides) or <c>a OR b OR …</c> (true decides): a term with the deciding value decides,
/// else the result is unknown if any term is unknown. Terms are a flat list, so a long chain never recurses deeply.
/// </summary>
internal sealed class SqlJunction : SqlCondition
{
    private readonly IReadOnlyList<SqlCondition> _terms;
    private readonly bool _decides;

    private SqlJunction(IReadOnlyList<SqlCondition> terms, bool decides)
    {
        _terms = terms;
        _decides = decides;
    }

    public static SqlJunction AllOf(IReadOnlyList<SqlCondition> terms) => new(terms, decides: false);

    public static SqlJunction AnyOf(IReadOnlyList<SqlCondition> terms) => new(terms, decides: true);

    public override bool? Evaluate(in SqlRow row)
    {
        bool? result = !_decides;
        foreach (var term in _terms)
        {
            var value = term.Evaluate(row);
            if (value == _decides) return _decides;
            if (value is null) result = null;
        }
        return result;
    }
}

/// <summary><c>NOT a</c>; unknown stays unknown, so <c>NOT (a = 1)</c> does not match a message without <c>a</c>.</summary>
internal sealed class SqlNot(SqlCondition inner) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row) => !inner.Evaluate(row);
}

/// <summary><c>TRUE</c> or <c>FALSE</c> on its own.</summary>
internal sealed class SqlConstant(bool value) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row) => value;
}

/// <summary>A property on its own (<c>vip AND …</c>): true when its value is "true", false when "false", else unknown.</summary>
internal sealed class SqlBooleanProperty(string name) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row) => SqlValue.ParseBoolean(row.Get(name));
}

/// <summary>The comparison operators.</summary>
internal enum SqlComparison
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>
/// <c>left op right</c>. Equality compares strings as strings, and as numbers or booleans when the other side is a
/// number or boolean literal. Ordering (<c>&lt; &lt;= &gt; &gt;=</c>) compares numbers only (as RocketMQ, which
/// refuses ordering strings): a value that is not a number makes it unknown.
/// </summary>
internal sealed class SqlCompare(SqlOperand left, SqlComparison op, SqlOperand right) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row)
    {
        if (left.Resolve(row) is not { } l || right.Resolve(row) is not { } r) return null;
        var order = SqlValue.Compare(l, r, ordering: op is not (SqlComparison.Equal or SqlComparison.NotEqual));
        return order switch
        {
            null => null,
            var c => op switch
            {
                SqlComparison.Equal => c == 0,
                SqlComparison.NotEqual => c != 0,
                SqlComparison.Less => c < 0,
                SqlComparison.LessOrEqual => c <= 0,
                SqlComparison.Greater => c > 0,
                _ => c >= 0,
            },
        };
    }
}

/// <summary><c>name [NOT] BETWEEN low AND high</c>, bounds included, both numbers.</summary>
internal sealed class SqlBetween(string name, SqlNumber low, SqlNumber high, bool negated) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row)
    {
        if (!SqlNumber.TryParse(row.Get(name), out var value)) return null;
        var inside = value.CompareTo(low) >= 0 && value.CompareTo(high) <= 0;
        return inside != negated;
    }
}

/// <summary><c>name [NOT] IN ('a', 'b')</c>: string membership, case-sensitive.</summary>
internal sealed class SqlIn(string name, IReadOnlySet<string> values, bool negated) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row) => row.Get(name) is { } value ? values.Contains(value) != negated : null;
}

/// <summary><c>name IS [NOT] NULL</c>: the only test that sees a missing property.</summary>
internal sealed class SqlIsNull(string name, bool negated) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row) => (row.Get(name) is null) != negated;
}

/// <summary>RocketMQ 5's string tests.</summary>
internal enum SqlStringTest
{
    Contains,
    StartsWith,
    EndsWith,
}

/// <summary><c>name [NOT] CONTAINS | STARTSWITH | ENDSWITH 'text'</c>, case-sensitive.</summary>
internal sealed class SqlStringMatch(string name, SqlStringTest test, string text, bool negated) : SqlCondition
{
    public override bool? Evaluate(in SqlRow row)
    {
        if (row.Get(name) is not { } value) return null;
        var found = test switch
        {
            SqlStringTest.Contains => value.Contains(text, StringComparison.Ordinal),
            SqlStringTest.StartsWith => value.StartsWith(text, StringComparison.Ordinal),
            _ => value.EndsWith(text, StringComparison.Ordinal),
        };
        return found != negated;
    }
}

/// <summary>One side of a comparison: a property or a literal.</summary>
internal abstract class SqlOperand
{
    /// <summary>The value, or null when it is a property the message does not have.</summary>
    public abstract SqlValue? Resolve(in SqlRow row);
}

/// <summary>A property (or <c>TAGS</c>): always a string.</summary>
internal sealed class SqlProperty(string name) : SqlOperand
{
    public string Name { get; } = name;

    public override SqlValue? Resolve(in SqlRow row) => row.Get(Name) is { } text ? SqlValue.String(text) : null;
}

/// <summary>A literal written in the expression.</summary>
internal sealed class SqlLiteral(SqlValue value) : SqlOperand
{
    public SqlValue Value { get; } = value;

    public override SqlValue? Resolve(in SqlRow row) => Value;
}

/// <summary>What a literal or a property value is.</summary>
internal enum SqlValueKind
{
    String,
    Number,
    Boolean,
}

/// <summary>A value being compared: a string (every property value is one), a number or a boolean.</summary>
internal readonly record struct SqlValue(SqlValueKind Kind, string Text, SqlNumber Number = default, bool Boolean = false)
{
    public static SqlValue String(string text) => new(SqlValueKind.String, text);

    /// <summary>"true" / "false" in any case, else null (RocketMQ reads anything but "true" as false; unknown is safer).</summary>
    public static bool? ParseBoolean(string? text) =>
        string.Equals(text, "true", StringComparison.OrdinalIgnoreCase) ? true
        : string.Equals(text, "false", StringComparison.OrdinalIgnoreCase) ? false
        : null;

    /// <summary>
    /// The sign of <c>left - right</c>, or null when they cannot be compared: a string compares with a number or
    /// boolean by converting it (RocketMQ's convertStringExpressions, on by default there too); two strings compare
    /// as text for equality and as numbers for ordering.
    /// </summary>
    public static int? Compare(SqlValue left, SqlValue right, bool ordering)
    {
        if (left.Kind == SqlValueKind.Number || right.Kind == SqlValueKind.Number || (ordering && left.Kind == SqlValueKind.String && right.Kind == SqlValueKind.String))
        {
            return AsNumber(left) is { } l && AsNumber(right) is { } r ? l.CompareTo(r) : null;
        }
        if (left.Kind == SqlValueKind.Boolean || right.Kind == SqlValueKind.Boolean)
        {
            return !ordering && AsBoolean(left) is { } l && AsBoolean(right) is { } r ? l.CompareTo(r) : null;
        }
        return string.CompareOrdinal(left.Text, right.Text) == 0 ? 0 : 1;
    }

    private static SqlNumber? AsNumber(SqlValue value) => value.Kind switch
    {
        SqlValueKind.Number => value.Number,
        SqlValueKind.String when SqlNumber.TryParse(value.Text, out var number) => number,
        _ => null,
    };

    private static bool? AsBoolean(SqlValue value) => value.Kind switch
    {
        SqlValueKind.Boolean => value.Boolean,
        SqlValueKind.String => ParseBoolean(value.Text),
        _ => null,
    };
}

/// <summary>
/// A number as decimal (exact for every long and for decimal fractions such as 0.1), or as double when it is beyond
/// decimal's range (1e40).
/// </summary>
internal readonly struct SqlNumber : IComparable<SqlNumber>
{
    private const NumberStyles Style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    private readonly decimal _decimal;
    private readonly double _double;
    private readonly bool _isDecimal;

    private SqlNumber(decimal value)
    {
        _decimal = value;
        _double = (double)value;
        _isDecimal = true;
    }

    private SqlNumber(double value) => _double = value;

    /// <summary>Reads <c>42</c>, <c>-7</c>, <c>3.14</c>, <c>1e6</c> (invariant culture, no spaces); false for anything else.</summary>
    public static bool TryParse(string? text, out SqlNumber number)
    {
        if (decimal.TryParse(text, Style, CultureInfo.InvariantCulture, out var d))
        {
            number = new SqlNumber(d);
            return true;
        }
        if (double.TryParse(text, Style, CultureInfo.InvariantCulture, out var f) && double.IsFinite(f))
        {
            number = new SqlNumber(f);
            return true;
        }
        number = default;
        return false;
    }

    public SqlNumber Negate() => _isDecimal ? new SqlNumber(-_decimal) : new SqlNumber(-_double);

    public int CompareTo(SqlNumber other) =>
        _isDecimal && other._isDecimal ? _decimal.CompareTo(other._decimal) : _double.CompareTo(other._double);

    public override string ToString() => _isDecimal ? _decimal.ToString(CultureInfo.InvariantCulture) : _double.ToString("R", CultureInfo.InvariantCulture);
}
