namespace OrleansMQ.Grains.Retry;

/// <summary>Which dead letters of a group were put back to it (omq_dlq_resend). The dead letters themselves are rows of the message log.</summary>
internal interface IDeadLetterStore
{
    /// <summary>When each of these messages was last resent; absent ids never were.</summary>
    Task<Dictionary<string, DateTimeOffset>> LoadResentAsync(string group, IReadOnlyList<string> msgIds, CancellationToken cancellationToken = default);

    /// <summary>Records that these messages were resent now.</summary>
    Task MarkResentAsync(string group, IReadOnlyList<string> msgIds, CancellationToken cancellationToken = default);
}
