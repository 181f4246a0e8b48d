using System.Diagnostics;
using System.Globalization;
using OrleansMQ.Cli.Common;

namespace OrleansMQ.Cli.Commands.Bench;

/// <summary>
/// A once-a-second progress line on stderr while a benchmark runs ("measure 4s: 41,230 msg/s"), so stdout
/// keeps only the result. <paramref name="describe"/> returns the line's text given the elapsed time.
/// </summary>
internal sealed class BenchProgress(Func<TimeSpan, string> describe) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public static BenchProgress Start(Func<TimeSpan, string> describe)
    {
        var progress = new BenchProgress(describe);
        progress._loop = progress.RunAsync();
        return progress;
    }

    /// <summary>Messages per second between two samples of a counter.</summary>
    public static string Rate(long count, ref long lastCount, ref long lastTimestamp)
    {
        var now = Stopwatch.GetTimestamp();
        var seconds = Stopwatch.GetElapsedTime(lastTimestamp, now).TotalSeconds;
        var rate = seconds > 0 ? (count - lastCount) / seconds : 0;
        lastCount = count;
        lastTimestamp = now;
        return rate.ToString("N0", CultureInfo.InvariantCulture);
    }

    private async Task RunAsync()
    {
        var started = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Output.Note(describe(started.Elapsed));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        _stop.Dispose();
    }
}
