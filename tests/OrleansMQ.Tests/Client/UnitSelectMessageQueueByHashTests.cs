using OrleansMQ.Client;
using OrleansMQ.Messages;

namespace OrleansMQ.Tests.Client;

/// <summary>
/// Ordered messages depend on one key always picking one queue, in every process and every run, and on
/// agreeing with RocketMQ's Java selector (String.hashCode modulo the queue count).
/// </summary>
public sealed class UnitSelectMessageQueueByHashTests
{
    private static List<MessageQueue> Queues(int count) => [.. Enumerable.Range(0, count).Select(i => new MessageQueue("orders", i))];

    [Theory]
    [InlineData("hello", 99162322)]
    [InlineData("order-1", -1207111310)]
    [InlineData("order-42", 1234255197)]
    [InlineData("ORDER_2024_0001", -57878513)]
    [InlineData("", 0)]
    public void The_hash_is_Javas_String_hashCode(string key, int javaHashCode)
    {
        Assert.Equal(javaHashCode, SelectMessageQueueByHash.StableHash(key));
    }

    [Theory]
    [InlineData("hello", 8, 2)]
    [InlineData("order-1", 8, 6)]
    [InlineData("order-42", 8, 5)]
    [InlineData("ORDER_2024_0001", 8, 1)]
    [InlineData("zzzzzzzz", 8, 0)]
    [InlineData("order-1", 3, 2)]
    [InlineData("hello", 3, 1)]
    public void A_key_selects_the_queue_RocketMQ_selects(string key, int queueCount, int expectedQueueId)
    {
        var selected = SelectMessageQueueByHash.Instance.Select(Queues(queueCount), new Message("orders", "x"), key);

        Assert.Equal(new MessageQueue("orders", expectedQueueId), selected);
    }

    [Fact]
    public void A_non_string_argument_is_hashed_through_its_text()
    {
        var byNumber = SelectMessageQueueByHash.Instance.Select(Queues(8), new Message("orders", "x"), 42L);
        var byText = SelectMessageQueueByHash.Instance.Select(Queues(8), new Message("orders", "x"), "42");

        Assert.Equal(byText, byNumber);
    }

    [Fact]
    public void A_null_argument_is_refused_with_InvalidArgument()
    {
        var error = Assert.Throws<MQException>(() => SelectMessageQueueByHash.Instance.Select(Queues(8), new Message("orders", "x"), null));
        Assert.Equal(MQErrorCode.InvalidArgument, error.Code);
    }
}
