using Orleans.Networking.Shared;
using Orleans.Runtime.Messaging;

namespace OrleansMQ.Client;

/// <summary>
/// Turns what a grain call can throw into the one exception type users see. The broker's own
/// <see cref="MQException"/> crosses the grain boundary intact and is kept; Orleans transport failures
/// (gateway gone, silo shutting down, call timed out) become <see cref="MQErrorCode.BrokerUnavailable"/>,
/// which <see cref="MQException.IsRetryable"/> marks as worth retrying elsewhere.
/// </summary>
internal static class BrokerErrors
{
    /// <summary>Whether the exception says the broker could not be reached, rather than that it refused the call.</summary>
    public static bool IsTransportFailure(Exception exception) => exception is
        TimeoutException or
        OrleansMessageRejectionException or // includes SiloUnavailableException
        ConnectionFailedException or
        SocketConnectionException or
        GatewayTooBusyException or
        ClientNotAvailableException or
        OrleansLifecycleCanceledException;

    /// <summary>
    /// The exception to hand to the caller for a failed broker call. <paramref name="operation"/> completes
    /// the sentence "cannot …", e.g. "append to orders:3". Always returns a new instance for anything but
    /// <see cref="MQException"/> and <see cref="OperationCanceledException"/>, so a failure shared by many
    /// coalesced sends can be given to each of them.
    /// </summary>
    public static Exception ToPublic(Exception exception, string operation)
    {
        switch (exception)
        {
            case MQException or OperationCanceledException:
                return exception;
            case AggregateException { InnerExceptions.Count: 1 } aggregate:
                return ToPublic(aggregate.InnerExceptions[0], operation);
            case ObjectDisposedException:
                return new MQException(MQErrorCode.ClientNotStarted,
                    $"cannot {operation}: the Orleans client was stopped or disposed", exception);
            case TimeoutException:
                return new MQException(MQErrorCode.BrokerUnavailable,
                    $"cannot {operation}: the broker did not answer in time ({exception.Message})", exception);
            default:
                if (IsTransportFailure(exception))
                {
                    return new MQException(MQErrorCode.BrokerUnavailable,
                        $"cannot {operation}: the broker is unreachable ({exception.GetType().Name}: {exception.Message})", exception);
                }
                // An unexpected broker-side failure: not retryable, still the one exception type callers catch.
                return new MQException(MQErrorCode.BrokerError,
                    $"cannot {operation}: the broker failed the call ({exception.GetType().Name}: {exception.Message})", exception);
        }
    }

    /// <summary>A copy of a failure for one more caller (exceptions are not shared between awaiters, whose rethrows would race on the stack trace).</summary>
    public static Exception CopyFor(Exception exception) => exception switch
    {
        MQException mq => new MQException(mq.Code, mq.Message, mq.InnerException ?? mq),
        _ => exception,
    };

    /// <summary>Awaits a grain call, translating its failure for the caller.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await WaitAsync(call(), Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw ToPublic(ex, operation);
        }
    }

    /// <summary>Awaits a grain call without a result, translating its failure for the caller.</summary>
    public static Task Call(Func<Task> call, string operation, CancellationToken cancellationToken) =>
        Call(async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, operation, cancellationToken);

    /// <summary>
    /// Waits for a grain call at most <paramref name="timeout"/> (Orleans' own response timeout, 30 s by default, is
    /// far longer than a caller should wait on a silo that died mid-call). Grain calls take no token: giving up
    /// stops the wait, not the broker's work, which may still complete.
    /// </summary>
    public static async Task<T> WaitAsync<T>(Task<T> call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch when (!call.IsCompleted)
        {
            ObserveLater(call);
            throw;
        }
    }

    /// <summary>Keeps the late failure of an abandoned call from surfacing as an unobserved task exception.</summary>
    private static void ObserveLater(Task abandoned) =>
        abandoned.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
