using OrleansMQ.Filtering;

namespace OrleansMQ.Tests.Unit;

public sealed class TagExpressionTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("*")]
    [InlineData(" * ")]
    public void Star_or_empty_matches_every_message(string? text)
    {
        var expression = TagExpression.Parse(text);

        Assert.True(expression.MatchesAll);
        Assert.Empty(expression.Tags);
        Assert.True(expression.Matches("anything"));
        Assert.True(expression.Matches(null));
    }

    [Theory]
    [InlineData("A || B")]
    [InlineData("A||B")]
    [InlineData("  A ||B  ")]
    [InlineData("A || B || A")]
    public void Tags_joined_by_double_bar_match_only_those_tags(string text)
    {
        var expression = TagExpression.Parse(text);

        Assert.False(expression.MatchesAll);
        Assert.Equal(["A", "B"], expression.Tags.Order(StringComparer.Ordinal));
        Assert.True(expression.Matches("A"));
        Assert.True(expression.Matches("B"));
        Assert.False(expression.Matches("C"));
        Assert.False(expression.Matches("a"));
        Assert.False(expression.Matches(null));
        Assert.Equal(text.Trim(), expression.ToString());
    }

    [Fact]
    public void Single_tag_matches_that_tag()
    {
        var expression = TagExpression.Parse("created");

        Assert.True(expression.Matches("created"));
        Assert.False(expression.Matches("created2"));
    }

    [Theory]
    [InlineData("a ||")]
    [InlineData("|| a")]
    [InlineData("a |||| b")]
    [InlineData("a | b")]
    [InlineData("a b")]
    [InlineData("a || *")]
    [InlineData("||")]
    public void Malformed_expressions_fail_with_InvalidFilterExpression(string text)
    {
        var e = Assert.Throws<MQException>(() => TagExpression.Parse(text));

        Assert.Equal(MQErrorCode.InvalidFilterExpression, e.Code);
        Assert.Contains(text, e.Message);
    }
}
