using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;
using OrleansMQ.Queues;

namespace OrleansMQ.Client.Hosting;

/// <summary>Generic-host integration: OrleansMQ producers and consumers as services of an application.</summary>
public static class OrleansMQServiceCollectionExtensions
{
    /// <summary>
    /// For an application without an Orleans client of its own: OrleansMQ connects to the broker's gateways when the
    /// host starts and disconnects when it stops.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddOrleansMQClient(o => o.Gateways = "127.0.0.1:30000")
    ///     .AddProducer(p => p.ProducerGroup = "shop")
    ///     .AddConsumer&lt;OrderCreatedHandler&gt;(c => { c.Topic = "Orders"; c.Consumer.ConsumerGroup = "billing"; });
    /// </code>
    /// </example>
    public static OrleansMQBuilder AddOrleansMQClient(this IServiceCollection services, Action<OrleansMQConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<OrleansMQConnectionOptions>();
        if (configure is not null) options.Configure(configure);
        services.TryAddSingleton<HostedConnection>();
        services.TryAddSingleton<IBrokerGrainSource>(sp => sp.GetRequiredService<HostedConnection>());
        // Registered before any consumer added to the builder, so it starts before them and stops after them.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<HostedConnection>());
        return new OrleansMQBuilder(services);
    }

    /// <summary>
    /// For an application that runs its own Orleans client (<c>UseOrleansClient</c>) to the OrleansMQ silos: producers and
    /// consumers call the broker through that client.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.UseOrleansClient(client => client.UseLocalhostClustering(30000, "orleansmq", "orleansmq")
    ///     .AddOrleansMQ().AddProducer().AddConsumer&lt;OrderCreatedHandler&gt;(c => { … }));
    /// </code>
    /// </example>
    public static OrleansMQBuilder AddOrleansMQ(this IClientBuilder client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(IQueueGrain).Assembly));
        client.Services.TryAddSingleton<IBrokerGrainSource>(sp => new ApplicationClientGrainSource(sp.GetRequiredService<IGrainFactory>()));
        return new OrleansMQBuilder(client.Services);
    }
}
