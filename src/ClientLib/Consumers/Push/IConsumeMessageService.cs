namespace OrleansMQ.Client;

/// <summary>Runs a push consumer's listener over pulled messages: concurrently or orderly (RocketMQ's ConsumeMessageService).</summary>
internal interface IConsumeMessageService
{
    /// <summary>Starts the workers.</summary>
    void Start();

    /// <summary>Hands freshly pulled messages of one queue over (they are in its process queue already).</summary>
    void Submit(ProcessQueue processQueue, IReadOnlyList<Messages.MessageExt> messages);

    /// <summary>Starts no more invocations and waits for the running ones (cancelling abandons them).</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
