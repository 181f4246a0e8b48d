namespace OrleansMQ.Client;

/// <summary>
/// How long a message a listener did not consume waits before it is delivered to a listener again locally, when
/// sending it back to the broker (the %RETRY% topic with delay levels) failed: 1 s, 2 s, 5 s, 10 s, 20 s, then 30 s.
/// </summary>
internal static class ReconsumeBackoff
{
    private static readonly TimeSpan[] Steps =
    [
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5),
        TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30),
    ];

    /// <summary>The delay after the <paramref name="failures"/>-th failed attempt (0: the first one failed).</summary>
    public static TimeSpan After(int failures) => Steps[Math.Clamp(failures, 0, Steps.Length - 1)];
}
