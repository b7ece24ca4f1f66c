using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Audit;
using Xks.Proxy.Authentication;
using Xks.Proxy.Crypto;
using Xks.Proxy.Crypto.Pkcs11;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Endpoints;
using Xks.Proxy.Health;
using Xks.Proxy.Hosting;
using Xks.Proxy.Metrics;
using Xks.Proxy.Options;
using Xks.Proxy.Tls;
using Xks.Proxy.Unseal;

namespace Microsoft.Extensions.DependencyInjection;

public static class ProxyServiceCollectionExtensions
{
    /// <summary>Registers the XKS proxy for a validated configuration.</summary>
    public static IServiceCollection AddXksProxy(this IServiceCollection services, ProxyConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(new ProxyConfigurationHolder(configuration));
        services.AddSingleton(Prometheus.Metrics.NewCustomRegistry());
        services.AddSingleton(sp => new ProxyMetrics(sp.GetRequiredService<CollectorRegistry>()));
        if (configuration.Options.Backend.Software?.Sealing is { } sealing)
        {
            // HsmSealed: format-3 key versions are unsealed by the HSM's root key (only then is an unsealer registered).
            services.AddSingleton<IKeyUnsealer>(sp => new Pkcs11KeyUnsealer(sealing, sp.GetRequiredService<ILogger<Pkcs11KeyUnsealer>>()));
        }

        services.AddSingleton<IKeyBackend>(sp =>
        {
            var backend = CreateBackend(configuration.Options.Backend, sp);
            sp.GetRequiredService<ProxyMetrics>().ObserveSubKeys(backend.SubKeys);
            return backend;
        });
        if (configuration.Options.Backend.Software?.Shamir is not null)
        {
            // Shamir: the backend starts sealed; custodians unseal it through the admin listener (ProxyApplication).
            services.AddSingleton(sp => new ShamirUnsealer(
                (SoftwareKeyBackend)sp.GetRequiredService<IKeyBackend>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ShamirUnsealer>>(),
                onUnsealed: () => sp.GetRequiredService<HealthMonitor>().Refresh()));
            services.AddSingleton<UnsealApi>();
        }

        services.AddSingleton<SigV4Verifier>();
        services.TryAddSingleton(new DrainOptions(TimeSpan.Zero));
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ShutdownDrain>());
        services.AddSingleton<HealthMonitor>();
        services.AddSingleton(sp => new ConfigFreshness(sp.GetRequiredService<TimeProvider>(), maxAge: null));
        services.AddHostedService(sp => sp.GetRequiredService<HealthMonitor>());
        services.AddSingleton<AuditLog>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());
        services.AddSingleton<GetHealthStatusEndpoint>();
        services.AddSingleton<GetKeyMetadataEndpoint>();
        services.AddSingleton<EncryptEndpoint>();
        services.AddSingleton<DecryptEndpoint>();
        services.AddSingleton<XksRequestHandler>();
        if (configuration.Options.Server.Tls is { } tls)
        {
            services.AddSingleton(sp => new TlsCertificateProvider(tls, sp.GetRequiredService<ILogger<TlsCertificateProvider>>()));
        }

        services.AddSingleton(sp => new ConfigurationReloader(
            sp.GetRequiredService<ProxyConfigurationHolder>(),
            sp.GetRequiredService<IKeyBackend>(),
            sp.GetRequiredService<ProxyMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ConfigurationReloader>>(),
            sp.GetService<TlsCertificateProvider>()));
        services.AddHostedService(sp => sp.GetRequiredService<ConfigurationReloader>());
        return services;
    }

    private static IKeyBackend CreateBackend(BackendOptions options, IServiceProvider services)
    {
        if (options.Software is { } software)
        {
            return new SoftwareKeyBackend(software, services.GetRequiredService<ILogger<SoftwareKeyBackend>>(), services.GetRequiredService<TimeProvider>(), services.GetService<IKeyUnsealer>());
        }

        if (options.Pkcs11 is { } pkcs11)
        {
            return new Pkcs11KeyBackend(pkcs11, services.GetRequiredService<ILogger<Pkcs11KeyBackend>>(), services.GetRequiredService<TimeProvider>());
        }

        throw new InvalidOperationException("no key backend configured");
    }
}
