using OrleansMQ.Filtering;

namespace OrleansMQ.Tests.Unit;

public sealed class SqlFilterTests
{
    // The messages the table below is evaluated against: name → (tag, properties).
    private static readonly Dictionary<string, (string? Tag, Dictionary<string, string> Properties)> Messages = new()
    {
        ["eu7"] = ("created", new() { ["a"] = "7", ["region"] = "eu", ["b"] = "abc", ["vip"] = "true", ["price"] = "12.50" }),
        ["us3"] = ("paid", new() { ["a"] = "3", ["region"] = "us", ["b"] = "xyz", ["vip"] = "FALSE", ["price"] = "-1e2" }),
        ["text"] = (null, new() { ["a"] = "seven", ["region"] = "asia" }),
        ["empty"] = (null, new()),
    };

    [Theory]
    // comparisons: a property is a string and compares as a number with a number
    [InlineData("a > 5", "eu7")]
    [InlineData("a >= 7", "eu7")]
    [InlineData("a < 5", "us3")]
    [InlineData("a <= 3", "us3")]
    [InlineData("a = 7", "eu7")]
    [InlineData("a = 7.0", "eu7")]
    [InlineData("a = 7L", "eu7")]
    [InlineData("a <> 7", "us3")]
    [InlineData("5 < a", "eu7")]
    [InlineData("price > 12.4", "eu7")]
    [InlineData("price < -99.5", "us3")]
    [InlineData("price = 1.25E1", "eu7")]
    [InlineData("a > -1 AND a < +100", "eu7,us3")]
    // strings: equality is case-sensitive text; '' is a quote
    [InlineData("region = 'eu'", "eu7")]
    [InlineData("'eu' = region", "eu7")]
    [InlineData("region = 'EU'", "")]
    [InlineData("region <> 'eu'", "us3,text")]
    [InlineData("a = 'seven'", "text")]
    [InlineData("b = 'it''s'", "")]
    // properties compared with properties
    [InlineData("a = a", "eu7,us3,text")]
    [InlineData("a > price", "us3")]
    // BETWEEN includes its bounds
    [InlineData("a BETWEEN 3 AND 7", "eu7,us3")]
    [InlineData("a BETWEEN 4 AND 7", "eu7")]
    [InlineData("a NOT BETWEEN 4 AND 7", "us3")]
    [InlineData("a between -3 and 3", "us3")]
    // IN / NOT IN take strings
    [InlineData("region IN ('eu', 'us')", "eu7,us3")]
    [InlineData("region NOT IN ('eu', 'us')", "text")]
    [InlineData("region IN ('asia')", "text")]
    // IS [NOT] NULL is the only test that sees a missing property
    [InlineData("a IS NULL", "empty")]
    [InlineData("a IS NOT NULL", "eu7,us3,text")]
    [InlineData("missing IS NULL", "eu7,us3,text,empty")]
    // RocketMQ 5's string tests
    [InlineData("b CONTAINS 'b'", "eu7")]
    [InlineData("b NOT CONTAINS 'b'", "us3")]
    [InlineData("b STARTSWITH 'xy'", "us3")]
    [InlineData("b ENDSWITH 'bc'", "eu7")]
    [InlineData("b NOT ENDSWITH 'bc'", "us3")]
    // booleans
    [InlineData("vip = TRUE", "eu7")]
    [InlineData("vip = false", "us3")]
    [InlineData("vip", "eu7")]
    [InlineData("NOT vip", "us3")]
    [InlineData("TRUE", "eu7,us3,text,empty")]
    [InlineData("FALSE", "")]
    // TAGS is the message's tag
    [InlineData("TAGS = 'created'", "eu7")]
    [InlineData("TAGS IN ('created', 'paid') AND a > 4", "eu7")]
    [InlineData("TAGS IS NULL", "text,empty")]
    // AND / OR / NOT and parentheses; NOT binds tighter than AND, AND tighter than OR
    [InlineData("a > 5 AND b = 'abc'", "eu7")]
    [InlineData("a > 5 OR region = 'us'", "eu7,us3")]
    [InlineData("region = 'asia' OR a > 5 AND b = 'xyz'", "text")]
    [InlineData("(region = 'asia' OR a > 5) AND b = 'abc'", "eu7")]
    [InlineData("NOT region = 'eu' AND a IS NOT NULL", "us3,text")]
    [InlineData("NOT (region = 'eu' OR region = 'us')", "text")]
    [InlineData("NOT NOT region = 'eu'", "eu7")]
    [InlineData("a > 5 and REGION = 'eu'", "")]
    [InlineData("a > 5 and region = 'eu'", "eu7")]
    // a missing property or a non-number where a number is needed is unknown: never a match, not even under NOT
    [InlineData("NOT (a > 5)", "us3")]
    [InlineData("NOT (missing = 1)", "")]
    [InlineData("missing <> 'x'", "")]
    [InlineData("a IS NULL OR a > 5", "eu7,empty")]
    [InlineData("missing = 1 OR region = 'asia'", "text")]
    [InlineData("missing = 1 AND region = 'asia'", "")]
    public void Condition_matches_exactly_the_expected_messages(string sql, string expected)
    {
        var expression = SqlExpression.Parse(sql);

        var matched = Messages.Where(m => expression.Matches(m.Value.Tag, m.Value.Properties)).Select(m => m.Key);

        Assert.Equal(expected, string.Join(",", matched));
        Assert.Equal(ExpressionType.Sql92, expression.Type);
        Assert.False(expression.MatchesAll);
    }

    [Fact]
    public void Large_integers_compare_exactly()
    {
        var expression = SqlExpression.Parse("id = 9007199254740993");

        Assert.True(expression.Matches(null, new Dictionary<string, string> { ["id"] = "9007199254740993" }));
        Assert.False(expression.Matches(null, new Dictionary<string, string> { ["id"] = "9007199254740992" }));
        Assert.True(SqlExpression.Parse("n > 1e40").Matches(null, new Dictionary<string, string> { ["n"] = "2e40" }));
    }

    [Fact]
    public void A_message_without_properties_matches_only_null_tests()
    {
        Assert.False(SqlExpression.Parse("a = 1").Matches(null, null));
        Assert.True(SqlExpression.Parse("a IS NULL").Matches(null, null));
    }

    [Fact]
    public void Keywords_are_case_insensitive_and_whitespace_is_free()
    {
        var expression = SqlExpression.Parse("  a  between 1   AND 9 And\tregion in('eu','us')  oR\nb IS not NULL ");

        Assert.True(expression.Matches(null, new Dictionary<string, string> { ["a"] = "5", ["region"] = "eu" }));
        Assert.Equal("a  between 1   AND 9 And\tregion in('eu','us')  oR\nb IS not NULL", expression.Text);
    }

    [Fact]
    public void Deep_but_allowed_nesting_and_long_chains_evaluate()
    {
        var nested = new string('(', SqlExpression.MaxNesting) + "a = 1" + new string(')', SqlExpression.MaxNesting);
        var chain = string.Join(" AND ", Enumerable.Repeat("a = 1", 300));

        Assert.True(SqlExpression.Parse(nested).Matches(null, new Dictionary<string, string> { ["a"] = "1" }));
        Assert.True(SqlExpression.Parse(chain).Matches(null, new Dictionary<string, string> { ["a"] = "1" }));
    }

    [Theory]
    [InlineData("a > ", "expected a value after '>' at 4")]
    [InlineData("a >", "expected a value after '>' at 4")]
    [InlineData("a = 1 AND", "expected a condition (a property, a value or '(') at 10")]
    [InlineData("a = 1 b = 2", "expected AND, OR or the end after '1' at 7, found 'b'")]
    [InlineData("(a = 1", "expected ')' (for the '(' at 1) at 7")]
    [InlineData("a = 1)", "expected AND, OR or the end after '1' at 6, found ')'")]
    [InlineData("a = 'abc", "expected a closing quote for the string that starts at 5")]
    [InlineData("a != 1", "'!=' at 3 is not SQL92; write '<>'")]
    [InlineData("a == 1", "'==' at 3 is not SQL92; write '='")]
    [InlineData("A || B", "'||' at 3 is not SQL92; write OR")]
    [InlineData("a > 'abc'", "cannot be ordered")]
    [InlineData("a < TRUE", "cannot be ordered")]
    [InlineData("a BETWEEN 5 AND 1", "expected a high bound of at least 5 (BETWEEN takes the low bound first) at 17")]
    [InlineData("a BETWEEN 1 OR 5", "expected AND between the bounds of BETWEEN at 13, found 'OR'")]
    [InlineData("a BETWEEN 'x' AND 'y'", "expected a number after BETWEEN at 11")]
    [InlineData("a IN ()", "expected a string in quotes in the IN list at 7")]
    [InlineData("a IN (1, 2)", "expected a string in quotes in the IN list at 7, found '1'")]
    [InlineData("a IN ('x' 'y')", "expected ',' or ')' in the IN list at 11")]
    [InlineData("a IN 'x'", "expected '(' after IN at 6")]
    [InlineData("a IS 5", "expected NULL or NOT NULL after IS at 6")]
    [InlineData("a IS NOT 5", "expected NULL after IS NOT at 10")]
    [InlineData("a = NULL", "to test for a missing property write 'IS NULL'")]
    [InlineData("a NOT LIKE 'x'", "expected BETWEEN, IN, CONTAINS, STARTSWITH or ENDSWITH after NOT at 7")]
    [InlineData("5", "expected a comparison after '5' at 2")]
    [InlineData("'x' IN ('x')", "expected a property name before IN at 1, found 'x'")]
    [InlineData("a CONTAINS 5", "expected a string in quotes after CONTAINS at 12")]
    [InlineData("a = 1 # b", "unexpected character '#' at 7")]
    [InlineData("a = 12abc", "expected a number at 5, found '12a'")]
    [InlineData("a = 1..2", "expected a number, not '1..2' at 5")]
    [InlineData("AND", "expected a condition (a property, a value or '(') at 1, found 'AND'")]
    public void Malformed_expressions_fail_with_the_position_and_what_was_expected(string sql, string message)
    {
        var e = Assert.Throws<MQException>(() => SqlExpression.Parse(sql));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, e.Code);
        Assert.Contains(message, e.Message);
        Assert.Contains($"in \"{sql.Trim()}\"", e.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_expressions_are_refused(string? sql)
    {
        var e = Assert.Throws<MQException>(() => SqlExpression.Parse(sql));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, e.Code);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Too_long_and_too_deeply_nested_expressions_are_refused()
    {
        var tooLong = Assert.Throws<MQException>(() => SqlExpression.Parse("a = '" + new string('x', SqlExpression.MaxLength) + "'"));
        var tooDeep = Assert.Throws<MQException>(() => SqlExpression.Parse(new string('(', SqlExpression.MaxNesting + 1) + "a = 1" + new string(')', SqlExpression.MaxNesting + 1)));
        var tooManyNots = Assert.Throws<MQException>(() => SqlExpression.Parse(string.Concat(Enumerable.Repeat("NOT ", SqlExpression.MaxNesting + 1)) + "a = 1"));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, tooLong.Code);
        Assert.Contains($"at most {SqlExpression.MaxLength}", tooLong.Message);
        Assert.Contains($"at most {SqlExpression.MaxNesting} nested", tooDeep.Message);
        Assert.Contains($"at most {SqlExpression.MaxNesting} nested", tooManyNots.Message);
    }

    [Fact]
    public void Selectors_compile_to_the_filter_of_their_type()
    {
        Assert.IsType<TagExpression>(MessageSelector.ByTag("A || B").Compile());
        Assert.Same(TagExpression.All, MessageSelector.ByTag(null).Compile());
        Assert.IsType<SqlExpression>(MessageSelector.BySql("a > 1").Compile());
        Assert.Equal("SQL92: a > 1", MessageSelector.BySql(" a > 1 ").ToString());
        Assert.Equal("SQL92: a > 1", new ConsumerGroups.Subscription("orders", "a > 1", ExpressionType.Sql92).Describe());
        Assert.Equal("A || B", new ConsumerGroups.Subscription("orders", "A || B").Describe());
        Assert.Throws<MQException>(() => MessageFilter.Compile((ExpressionType)7, "a"));
    }
}
