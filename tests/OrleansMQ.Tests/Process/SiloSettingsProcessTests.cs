using System.Globalization;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Process;

/// <summary>What <c>./orleansmq up</c> says when a broker setting (<c>--OrleansMQ:Name=value</c>) is wrong.</summary>
[Collection(ProcessCollection.Name)]
public sealed class SiloSettingsProcessTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task A_wrong_broker_setting_stops_the_silo_with_one_line_naming_it_and_no_stack()
    {
        var up = await ProcessRunner.LauncherAsync(TimeSpan.FromMinutes(3),
            "up", "--postgres", fixture.Database.ConnectionString, "--silo-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture),
            "--gateway-port", ProcessRunner.FreePort().ToString(CultureInfo.InvariantCulture), "--http-port", "0",
            "--OrleansMQ:ShortPollingTime=00:00:00");

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("orleansmq-silo: error: OrleansMQ:ShortPollingTime must be positive and not above MaxPullSuspend", up.StderrLines);
        var output = string.Join('\n', up.StdoutLines.Concat(up.StderrLines));
        Assert.DoesNotContain("Hosting failed", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain(up.StdoutLines, l => l.StartsWith("OrleansMQ silo ready", StringComparison.Ordinal));
    }
}
