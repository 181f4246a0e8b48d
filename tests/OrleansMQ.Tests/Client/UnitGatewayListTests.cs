using OrleansMQ.Client;

namespace OrleansMQ.Tests.Client;

/// <summary>A mistyped gateway list fails at once with a typed error naming the entry, before any connection attempt.</summary>
public sealed class UnitGatewayListTests
{
    [Theory]
    [InlineData("127.0.0.1:30000", "127.0.0.1", 30000)]
    [InlineData(" broker-1:1 ", "broker-1", 1)]
    [InlineData("[::1]:65535", "::1", 65535)]
    public void A_single_gateway_is_parsed_into_host_and_port(string text, string host, int port)
    {
        Assert.Equal([(host, port)], GatewayList.Parse(text));
    }

    [Fact]
    public void A_comma_separated_list_keeps_its_order()
    {
        Assert.Equal([("a", 1), ("b", 2), ("::1", 3)], GatewayList.Parse("a:1, b:2,[::1]:3"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("broker")]
    [InlineData("broker:")]
    [InlineData(":30000")]
    [InlineData("broker:0")]
    [InlineData("broker:65536")]
    [InlineData("broker:-1")]
    [InlineData("broker:30000x")]
    [InlineData("broker:+30000")]
    [InlineData("a:1,,b:2")]
    [InlineData("a:1,")]
    [InlineData("::1:30000")]
    [InlineData("[::1]")]
    [InlineData("[::1]30000")]
    [InlineData("[]:30000")]
    [InlineData("bro ker:30000")]
    public void A_malformed_list_is_refused_with_InvalidArgument(string? text)
    {
        var error = Assert.Throws<MQException>(() => GatewayList.Parse(text));

        Assert.Equal(MQErrorCode.InvalidArgument, error.Code);
        Assert.Contains("host:port", error.Message);
    }
}
