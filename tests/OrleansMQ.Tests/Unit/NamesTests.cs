using OrleansMQ.Validation;

namespace OrleansMQ.Tests.Unit;

public sealed class NamesTests
{
    [Theory]
    [InlineData("orders")]
    [InlineData("Orders_2024-eu|prio%1")]
    [InlineData("a")]
    public void Valid_topic_and_group_names_pass(string name)
    {
        Names.CheckTopic(name);
        Names.CheckGroup(name);
        Assert.True(Names.IsValidSyntax(name));
    }

    [Fact]
    public void Name_of_127_characters_passes_and_128_fails()
    {
        Names.CheckTopic(new string('a', 127));

        var e = Assert.Throws<MQException>(() => Names.CheckTopic(new string('a', 128)));

        Assert.Equal(MQErrorCode.InvalidTopicName, e.Code);
        Assert.Contains("128", e.Message);
        Assert.False(Names.IsValidSyntax(new string('a', 128)));
    }

    [Theory]
    [InlineData("a b", "a space")]
    [InlineData("topic!", "'!'")]
    [InlineData("t.x", "'.'")]
    [InlineData("主题", "'主'")]
    public void Topic_name_with_a_forbidden_character_fails_naming_it(string name, string shown)
    {
        var e = Assert.Throws<MQException>(() => Names.CheckTopic(name));

        Assert.Equal(MQErrorCode.InvalidTopicName, e.Code);
        Assert.Contains(shown, e.Message);
        Assert.Contains("allowed", e.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Empty_names_fail(string? name)
    {
        Assert.Equal(MQErrorCode.InvalidTopicName, Assert.Throws<MQException>(() => Names.CheckTopic(name)).Code);
        Assert.Equal(MQErrorCode.InvalidGroupName, Assert.Throws<MQException>(() => Names.CheckGroup(name)).Code);
        Assert.False(Names.IsValidSyntax(name));
    }

    [Theory]
    [InlineData("%RETRY%orders-group")]
    [InlineData("%DLQ%orders-group")]
    [InlineData("TBW102")]
    [InlineData("SCHEDULE_TOPIC_XXXX")]
    [InlineData("RMQ_SYS_TRACE")]
    [InlineData("OMQ_SYS_anything")]
    public void Reserved_topic_names_are_refused_to_clients_but_syntactically_valid(string name)
    {
        Assert.Equal(MQErrorCode.ReservedName, Assert.Throws<MQException>(() => Names.CheckTopic(name)).Code);
        Assert.True(Names.IsValidSyntax(name));
    }

    [Fact]
    public void Broker_may_use_retry_and_dlq_topics()
    {
        Names.CheckSystemTopic(Names.RetryTopic("g1"));
        Names.CheckSystemTopic(Names.DlqTopic("g1"));
        Assert.Equal(MQErrorCode.InvalidTopicName, Assert.Throws<MQException>(() => Names.CheckSystemTopic("a b")).Code);
    }

    [Fact]
    public void Retry_and_dlq_topic_names_follow_RocketMQ()
    {
        Assert.Equal("%RETRY%orders", Names.RetryTopic("orders"));
        Assert.Equal("%DLQ%orders", Names.DlqTopic("orders"));
    }

    [Theory]
    [InlineData("bad group!", MQErrorCode.InvalidGroupName)]
    [InlineData("DEFAULT_CONSUMER", MQErrorCode.ReservedName)]
    [InlineData("TOOLS_CONSUMER", MQErrorCode.ReservedName)]
    [InlineData("%RETRY%g", MQErrorCode.ReservedName)]
    public void Bad_group_names_fail_with_their_code(string group, MQErrorCode expected)
    {
        Assert.Equal(expected, Assert.Throws<MQException>(() => Names.CheckGroup(group)).Code);
    }
}
