namespace OrleansMQ.Tests.Infrastructure;

/// <summary>Bounded waits for things that happen in the background (offset flushes, expiry, deactivation).</summary>
public static class Eventually
{
    public static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up after {timeout.TotalSeconds:0.#} s waiting for {what}; last seen: {value}");
            }
            await Task.Delay(100);
        }
    }
}
