using Npgsql;
using BrokerHosting = OrleansMQ.Grains.Hosting.SiloBuilderExtensions;

namespace OrleansMQ.Tests.Unit;

/// <summary>The broker's Npgsql data source: no reset on close, statements prepared automatically unless the operator says otherwise.</summary>
public sealed class DataSourceSettingsTests
{
    [Fact]
    public async Task A_plain_connection_string_gets_automatic_preparation_and_no_reset_on_close()
    {
        await using var dataSource = BrokerHosting.CreateDataSource("Host=db;Username=u;Database=d");

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.Equal((32, 2, true), (settings.MaxAutoPrepare, settings.AutoPrepareMinUsages, settings.NoResetOnClose));
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;MaxAutoPrepare=5", 5)]
    [InlineData("Host=db;max auto prepare=7", 7)]
    public async Task A_connection_string_that_sets_max_auto_prepare_keeps_its_value(string connectionString, int expected)
    {
        await using var dataSource = BrokerHosting.CreateDataSource(connectionString);

        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxAutoPrepare);
    }
}
