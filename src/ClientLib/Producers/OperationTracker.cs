namespace OrleansMQ.Client;

/// <summary>
/// Counts the sends in progress so <see cref="Producer.DisposeAsync"/> can refuse new ones and wait for
/// the rest (their retries included) to finish.
/// </summary>
internal sealed class OperationTracker
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _inProgress;
    private int _closing;

    /// <summary>Whether <see cref="CloseAsync"/> was called.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Starts an operation; false (and nothing started) once closing.</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _inProgress);
        if (IsClosing)
        {
            Exit();
            return false;
        }
        return true;
    }

    /// <summary>Ends an operation started by a successful <see cref="TryEnter"/>.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _inProgress) == 0 && IsClosing)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Refuses new operations and completes when the running ones have ended.</summary>
    public Task CloseAsync()
    {
        Volatile.Write(ref _closing, 1);
        if (Interlocked.Read(ref _inProgress) == 0)
        {
            _drained.TrySetResult();
        }
        return _drained.Task;
    }
}
