using k8s;
using Xks.Proxy.Health;
using Xks.Proxy.Hosting;
using Xks.Proxy.Metrics;

namespace Xks.Proxy.Cluster;

/// <summary>
/// Cluster mode (<c>xks-proxy serve --config-secret</c>): waits for a first valid configuration in the Secret, then
/// builds the same application as standalone mode, plus the <see cref="ConfigSecretWatcher"/> that applies every
/// later version. Used by the command line and by the tests.
/// </summary>
public static class ClusterProxyApplication
{
    /// <summary>
    /// Throws <see cref="ClusterStartException"/> when no valid configuration arrives within
    /// <see cref="ClusterModeOptions.StartupTimeout"/>: the listening address, TLS and key backend all come from that
    /// document, so there is nothing to serve before it.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(
        ClusterModeOptions options,
        Action<ILoggingBuilder>? configureLogging = null,
        Action<IServiceCollection>? configureServices = null,
        CancellationToken cancellationToken = default)
    {
        var client = new Kubernetes(options.Kubernetes);
        try
        {
            InitialClusterConfiguration initial;
            using (var startupLogging = LoggerFactory.Create(logging => (configureLogging ?? ProxyApplication.DefaultLogging)(logging)))
            {
                var logger = startupLogging.CreateLogger(typeof(ClusterProxyApplication).FullName!);
                initial = await ConfigSecretSource.WaitForFirstAsync(client, options, logger, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }

            return ProxyApplication.Build(initial.Configuration, configureLogging, services =>
            {
                services.AddSingleton<IKubernetes>(_ => client);
                services.AddSingleton(options);
                services.AddSingleton(new DrainOptions(options.DrainDelay));
                services.AddSingleton(sp => new ConfigFreshness(sp.GetRequiredService<TimeProvider>(), options.ConfigMaxAge > TimeSpan.Zero ? options.ConfigMaxAge : null));
                services.AddSingleton(sp => new ConfigSecretWatcher(
                    sp.GetRequiredService<IKubernetes>(),
                    options,
                    initial.Document,
                    sp.GetRequiredService<ConfigurationReloader>(),
                    sp.GetRequiredService<ConfigFreshness>(),
                    sp.GetRequiredService<ProxyMetrics>(),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<ConfigSecretWatcher>>()));
                services.AddHostedService(sp => sp.GetRequiredService<ConfigSecretWatcher>());
                configureServices?.Invoke(services);
            });
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
