using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Client.Hosting;

/// <summary>
/// The listener of a hosted <see cref="TransactionProducer"/>: every local transaction and every check-back resolves
/// <typeparamref name="TListener"/> in a DI scope of its own, so it can use scoped services (a DbContext) as the
/// hosted consumers' handlers do.
/// </summary>
internal sealed class ScopedTransactionListener<TListener>(IServiceScopeFactory scopes) : ITransactionListener
    where TListener : class, ITransactionListener
{
    public async Task<LocalTransactionState> ExecuteLocalTransactionAsync(Message message, object? arg, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TListener>().ExecuteLocalTransactionAsync(message, arg, cancellationToken).ConfigureAwait(false);
    }

    public async Task<LocalTransactionState> CheckLocalTransactionAsync(MessageExt message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TListener>().CheckLocalTransactionAsync(message, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// Creates the hosted <see cref="TransactionProducer"/> once the host has started (the broker connection is up by then),
/// so it registers with its producer group and answers check-backs even before the application first sends.
/// </summary>
internal sealed class TransactionProducerStarter(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => services.GetRequiredService<TransactionProducer>().StartAsync(cancellationToken);

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
