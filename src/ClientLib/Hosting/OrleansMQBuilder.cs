using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Messages;
using OrleansMQ.Transactions;

namespace OrleansMQ.Client.Hosting;

/// <summary>
/// Adds OrleansMQ producers and consumers to an application's services, as rocketmq-spring does for Spring: a
/// <see cref="Producer"/> to inject where messages are sent, and consumers whose handlers are resolved from the
/// service provider. Made by <see cref="OrleansMQServiceCollectionExtensions.AddOrleansMQClient"/> or
/// <see cref="OrleansMQServiceCollectionExtensions.AddOrleansMQ"/>.
/// </summary>
public sealed class OrleansMQBuilder
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal OrleansMQBuilder(IServiceCollection services)
    {
        Services = services;
        services.TryAddSingleton(sp => new AdminClient(sp.GetRequiredService<IBrokerGrainSource>().Grains));
    }

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers a singleton <see cref="Producer"/> (inject <c>Producer</c>, into hosted services too); the host disposes
    /// it when it stops. With OrleansMQ's own connection it sends once the host has started.
    /// </summary>
    /// <exception cref="MQException">At once: a bad option, such as an invalid producer group name.</exception>
    public OrleansMQBuilder AddProducer(Action<ProducerOptions>? configure = null)
    {
        var options = Configure(configure);
        Services.AddSingleton(sp => CreateProducer(sp, options));
        return this;
    }

    /// <summary>
    /// Registers a singleton <see cref="Producer"/> under <paramref name="serviceKey"/> (inject it with
    /// <c>[FromKeyedServices(key)] Producer</c>), for an application with several producer groups.
    /// </summary>
    public OrleansMQBuilder AddProducer(string serviceKey, Action<ProducerOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceKey);
        var options = Configure(configure);
        Services.AddKeyedSingleton(serviceKey, (sp, _) => CreateProducer(sp, options));
        return this;
    }

    /// <summary>
    /// Adds an injectable <see cref="TransactionProducer"/> (one per host) whose local transactions and check-backs run
    /// <typeparamref name="TListener"/>, resolved in a DI scope per call (as rocketmq-spring's transaction listener). It
    /// registers with its producer group when the host has started, so it answers check-backs from then on, and leaves
    /// the group when the host stops.
    /// </summary>
    /// <param name="configure">Sets the producer options; <see cref="ProducerOptions.ProducerGroup"/> is required.</param>
    /// <exception cref="MQException"><see cref="MQErrorCode.InvalidTransaction"/> without a producer group.</exception>
    public OrleansMQBuilder AddTransactionProducer<TListener>(Action<ProducerOptions> configure)
        where TListener : class, ITransactionListener
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = Configure(configure);
        TransactionRules.CheckProducerGroup(options.ProducerGroup);
        Services.TryAddScoped<TListener>();
        Services.AddSingleton(sp => new TransactionProducer(
            sp.GetRequiredService<IBrokerGrainSource>().Grains,
            options,
            new ScopedTransactionListener<TListener>(sp.GetRequiredService<IServiceScopeFactory>()),
            sp.GetService<ILoggerFactory>()));
        Services.AddSingleton<IHostedService>(sp => new TransactionProducerStarter(sp));
        return this;
    }

    /// <summary>
    /// Consumes a topic with <typeparamref name="THandler"/>, resolved in a scope of its own for every message
    /// (registered as scoped unless the application registered it already). The consumer starts once the host has
    /// started and stops first when it stops.
    /// </summary>
    /// <exception cref="MQException">When the host starts: a bad topic, group or selector expression.</exception>
    public OrleansMQBuilder AddConsumer<THandler>(Action<HostedConsumerOptions> configure)
        where THandler : class, IMessageHandler =>
        AddHostedConsumer<THandler>(configure, (handler, message, ct) => handler.HandleAsync(message, ct));

    /// <summary>
    /// Consumes a topic whose message bodies are JSON of <typeparamref name="TPayload"/> with
    /// <typeparamref name="THandler"/>, resolved as in <see cref="AddConsumer{THandler}(Action{HostedConsumerOptions})"/>.
    /// </summary>
    public OrleansMQBuilder AddConsumer<THandler, TPayload>(Action<HostedConsumerOptions> configure)
        where THandler : class, IMessageHandler<TPayload> =>
        AddHostedConsumer<THandler>(configure, (handler, message, ct) => handler.HandleAsync(Deserialize<TPayload>(message), message, ct));

    private OrleansMQBuilder AddHostedConsumer<THandler>(Action<HostedConsumerOptions> configure, Func<THandler, MessageExt, CancellationToken, Task> invoke)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new HostedConsumerOptions();
        configure(options);
        Services.TryAddScoped<THandler>();
        Services.AddSingleton<IHostedService>(sp => new HostedConsumer(
            sp,
            sp.GetRequiredService<IBrokerGrainSource>(),
            options,
            (provider, message, ct) => invoke(provider.GetRequiredService<THandler>(), message, ct),
            typeof(THandler).Name,
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        return this;
    }

    /// <summary>The producer options, checked here so a bad one fails at registration, not at the first injection.</summary>
    private static ProducerOptions Configure(Action<ProducerOptions>? configure)
    {
        var options = new ProducerOptions();
        configure?.Invoke(options);
        options.Validate();
        return options;
    }

    private static Producer CreateProducer(IServiceProvider services, ProducerOptions options) =>
        new(services.GetRequiredService<IBrokerGrainSource>().Grains, options, services.GetService<ILoggerFactory>());

    private static TPayload Deserialize<TPayload>(MessageExt message)
    {
        try
        {
            return JsonSerializer.Deserialize<TPayload>(message.Body, Json)
                ?? throw new MQException(MQErrorCode.InvalidArgument, $"message {message.MsgId} has the JSON body null; expected a {typeof(TPayload).Name}");
        }
        catch (JsonException e)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"message {message.MsgId} is not JSON of a {typeof(TPayload).Name}: {e.Message}", e);
        }
    }
}
