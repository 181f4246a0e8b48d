using System.Text;
using OrleansMQ.Messages;
using OrleansMQ.Validation;

namespace OrleansMQ.Tests.Unit;

public sealed class MessageRulesTests
{
    private static MessageData Message(byte[] body, string? tag = null, IReadOnlyList<string>? keys = null, IReadOnlyDictionary<string, string>? properties = null) =>
        new("ID", tag, keys ?? [], body, properties, DateTimeOffset.UnixEpoch, null, null);

    [Fact]
    public void Ordinary_message_passes()
    {
        MessageRules.Check(Message([1], "created", ["order-1"], new Dictionary<string, string> { ["k"] = "v" }));
        MessageRules.Check(Message([1]));
    }

    [Fact]
    public void Empty_body_fails_with_EmptyBody()
    {
        Assert.Equal(MQErrorCode.EmptyBody, Assert.Throws<MQException>(() => MessageRules.Check(Message([]))).Code);
        Assert.Equal(MQErrorCode.EmptyBody, Assert.Throws<MQException>(() => MessageRules.Check(Message(null!))).Code);
    }

    [Fact]
    public void Body_at_the_maximum_passes_and_one_byte_more_fails_with_BodyTooLarge()
    {
        MessageRules.Check(Message(new byte[Limits.DefaultMaxBodyBytes]));

        var e = Assert.Throws<MQException>(() => MessageRules.Check(Message(new byte[Limits.DefaultMaxBodyBytes + 1])));

        Assert.Equal(MQErrorCode.BodyTooLarge, e.Code);
        Assert.Contains(Limits.DefaultMaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Configured_body_limit_wins()
    {
        MessageRules.Check(Message(new byte[10]), maxBodyBytes: 10);

        Assert.Equal(MQErrorCode.BodyTooLarge, Assert.Throws<MQException>(() => MessageRules.Check(Message(new byte[11]), maxBodyBytes: 10)).Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a||b")]
    [InlineData("||")]
    [InlineData("a b")]
    [InlineData("*")]
    [InlineData("tab\t")]
    public void Bad_tags_fail_with_InvalidTag(string tag)
    {
        Assert.Equal(MQErrorCode.InvalidTag, Assert.Throws<MQException>(() => MessageRules.CheckTag(tag)).Code);
    }

    [Fact]
    public void Tag_length_is_limited_to_127()
    {
        MessageRules.CheckTag(new string('t', Limits.MaxTagLength));
        MessageRules.CheckTag(null);

        Assert.Equal(MQErrorCode.InvalidTag, Assert.Throws<MQException>(() => MessageRules.CheckTag(new string('t', Limits.MaxTagLength + 1))).Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("order 1")]
    public void Bad_keys_fail_with_InvalidKeys(string key)
    {
        Assert.Equal(MQErrorCode.InvalidKeys, Assert.Throws<MQException>(() => MessageRules.CheckKeys(["ok", key])).Code);
    }

    [Fact]
    public void Properties_up_to_32_KiB_pass_and_more_fail_with_InvalidProperties()
    {
        var exactly = new Dictionary<string, string> { ["k"] = new('v', Limits.MaxPropertiesBytes - 1) };
        var over = new Dictionary<string, string> { ["k"] = new('v', Limits.MaxPropertiesBytes) };
        // Counted in UTF-8 bytes: 'é' is two.
        var overInBytes = new Dictionary<string, string> { ["k"] = new('é', Limits.MaxPropertiesBytes / 2) };

        MessageRules.CheckProperties(exactly);

        Assert.Equal(MQErrorCode.InvalidProperties, Assert.Throws<MQException>(() => MessageRules.CheckProperties(over)).Code);
        Assert.Equal(MQErrorCode.InvalidProperties, Assert.Throws<MQException>(() => MessageRules.CheckProperties(overInBytes)).Code);
        Assert.Equal(Limits.MaxPropertiesBytes + 1, Encoding.UTF8.GetByteCount("k" + overInBytes["k"]));
    }

    [Fact]
    public void Property_with_an_empty_name_or_no_value_fails_with_InvalidProperties()
    {
        Assert.Equal(MQErrorCode.InvalidProperties, Assert.Throws<MQException>(() => MessageRules.CheckProperties(new Dictionary<string, string> { [" "] = "v" })).Code);
        Assert.Equal(MQErrorCode.InvalidProperties, Assert.Throws<MQException>(() => MessageRules.CheckProperties(new Dictionary<string, string> { ["k"] = null! })).Code);
    }

    [Fact]
    public void Size_counts_the_body_and_the_properties()
    {
        Assert.Equal(3, MessageRules.SizeOf(Message([1, 2, 3])));
        Assert.Equal(3 + 2 + 3, MessageRules.SizeOf(Message([1, 2, 3], properties: new Dictionary<string, string> { ["ab"] = "cde" })));
    }
}
