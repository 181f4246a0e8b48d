using OrleansMQ.Messages;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Unit;

/// <summary>What a transaction message may be, and what its half and delivered forms carry, without a broker.</summary>
public sealed class TransactionRulesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void A_transaction_needs_a_producer_group(string? group)
    {
        var error = Assert.Throws<MQException>(() => TransactionRules.CheckProducerGroup(group));
        Assert.Equal(MQErrorCode.InvalidTransaction, error.Code);
        Assert.Contains("producer group", error.Message);
    }

    [Fact]
    public void A_malformed_producer_group_is_refused_by_the_naming_rule() =>
        Assert.Equal(MQErrorCode.InvalidGroupName, Assert.Throws<MQException>(() => TransactionRules.CheckProducerGroup("a b")).Code);

    [Theory]
    [InlineData("DELAY")]
    [InlineData("__STARTDELIVERTIME")]
    [InlineData("TIMER_DELIVER_MS")]
    [InlineData("TIMER_DELAY_SEC")]
    [InlineData("TIMER_DELAY_MS")]
    public void A_delayed_message_cannot_be_a_transaction_message(string property)
    {
        var message = Message("x", properties: new Dictionary<string, string> { [property] = "5" });
        Assert.Equal(MQErrorCode.InvalidTransaction, Assert.Throws<MQException>(() => TransactionRules.CheckMessage(message)).Code);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("86400", 86400)]
    public void Check_immunity_overrides_the_first_check_in_whole_seconds(string value, int seconds)
    {
        var message = Message("x", properties: new Dictionary<string, string> { [TransactionRules.CheckImmunityTimeProperty] = value });
        Assert.Equal(TimeSpan.FromSeconds(seconds), TransactionRules.CheckImmunity(message));
        Assert.Null(TransactionRules.CheckImmunity(Message("x")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("86401")]
    [InlineData("soon")]
    public void A_malformed_check_immunity_is_refused(string value)
    {
        var message = Message("x", properties: new Dictionary<string, string> { [TransactionRules.CheckImmunityTimeProperty] = value });
        Assert.Equal(MQErrorCode.InvalidProperties, Assert.Throws<MQException>(() => TransactionRules.CheckMessage(message)).Code);
    }

    [Fact]
    public void The_half_message_is_marked_and_the_delivered_one_is_not()
    {
        var message = Message("x", tag: "t", keys: ["k"], properties: new Dictionary<string, string> { ["region"] = "eu" });

        var half = TransactionRules.AsHalf(message, "shop");
        Assert.Equal("true", half.Properties![MessageTypeRules.TransactionProperty]);
        Assert.Equal(TopicMessageType.Transaction, MessageTypeRules.KindOf(half));
        Assert.Equal("shop", half.ProducerGroup);

        var delivered = TransactionRules.ForDelivery(half);
        Assert.Equal(message.MsgId, delivered.MsgId);
        Assert.Equal("t", delivered.Tag);
        Assert.Equal(["k"], delivered.Keys);
        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu" }, delivered.Properties);
        Assert.Equal(TopicMessageType.Normal, MessageTypeRules.KindOf(delivered));
        Assert.Null(TransactionRules.ForDelivery(TransactionRules.AsHalf(Message("y"), "shop")).Properties);
    }

    [Fact]
    public void Fifo_topics_refuse_transaction_messages_and_other_topics_take_them()
    {
        Assert.Equal(MQErrorCode.MessageTypeMismatch, Assert.Throws<MQException>(() => TransactionRules.CheckFitsTopic("t", TopicMessageType.Fifo)).Code);
        TransactionRules.CheckFitsTopic("t", TopicMessageType.Normal);
        TransactionRules.CheckFitsTopic("t", TopicMessageType.Transaction);
    }
}
