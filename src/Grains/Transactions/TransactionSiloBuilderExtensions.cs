using Microsoft.Extensions.DependencyInjection;

namespace OrleansMQ.Grains.Transactions;

/// <summary>Adds transaction messages to the broker (called by <c>UseOrleansMQ</c>).</summary>
internal static class TransactionSiloBuilderExtensions
{
    public static ISiloBuilder AddOrleansMQTransactions(this ISiloBuilder builder)
    {
        builder.Services.AddSingleton<ITransactionStore, PostgresTransactionStore>();
        builder.Services.AddSingleton<TransactionWatchdog>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<TransactionWatchdog>());
        return builder;
    }
}
