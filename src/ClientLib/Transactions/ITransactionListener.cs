using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Client;

/// <summary>
/// The application's side of a transaction message, as RocketMQ's TransactionListener: runs the local transaction
/// (a database update, …) after the half message is stored, and answers the broker's check-back when the outcome was
/// not reported (Unknown, an exception, a crash). Any instance of the producer group may be asked to check, so the check
/// must find the outcome from shared state (e.g. the database row the local transaction wrote), not from memory.
/// </summary>
public interface ITransactionListener
{
    /// <summary>
    /// Runs the local transaction for <paramref name="message"/> (stored as a half message, invisible to consumers).
    /// Commit makes it visible, Rollback discards it, Unknown (or an exception) leaves it to be checked back later.
    /// </summary>
    /// <param name="message">The message as sent.</param>
    /// <param name="arg">Whatever was passed to <see cref="TransactionProducer.SendMessageInTransactionAsync"/>.</param>
    /// <param name="cancellationToken">The send's token.</param>
    Task<LocalTransactionState> ExecuteLocalTransactionAsync(Message message, object? arg, CancellationToken cancellationToken);

    /// <summary>
    /// Tells the broker how a transaction it could not resolve ended: <paramref name="message"/> is the half message (its
    /// <see cref="MessageExt.MsgId"/> is the transaction id; <see cref="TransactionRules.CheckTimesProperty"/> counts the
    /// checks). Unknown (or an exception) asks to be checked again after the check interval, up to the broker's maximum.
    /// </summary>
    Task<LocalTransactionState> CheckLocalTransactionAsync(MessageExt message, CancellationToken cancellationToken);
}

/// <summary>A transaction listener made of two functions (see <see cref="ITransactionListener"/>).</summary>
/// <param name="execute">Runs the local transaction.</param>
/// <param name="check">Answers a check-back.</param>
public sealed class TransactionListener(
    Func<Message, object?, CancellationToken, Task<LocalTransactionState>> execute,
    Func<MessageExt, CancellationToken, Task<LocalTransactionState>> check) : ITransactionListener
{
    private readonly Func<Message, object?, CancellationToken, Task<LocalTransactionState>> _execute = execute ?? throw new ArgumentNullException(nameof(execute));
    private readonly Func<MessageExt, CancellationToken, Task<LocalTransactionState>> _check = check ?? throw new ArgumentNullException(nameof(check));

    /// <inheritdoc />
    public Task<LocalTransactionState> ExecuteLocalTransactionAsync(Message message, object? arg, CancellationToken cancellationToken) =>
        _execute(message, arg, cancellationToken);

    /// <inheritdoc />
    public Task<LocalTransactionState> CheckLocalTransactionAsync(MessageExt message, CancellationToken cancellationToken) =>
        _check(message, cancellationToken);
}
