using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Prometheus;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Crypto;
using Xks.Proxy.Options;
using Xks.Proxy.Tls;
using Xks.Proxy.Unseal;

namespace Xks.Proxy.Hosting;

/// <summary>Builds the proxy's web application for a validated configuration (used by Program and by the tests).</summary>
public static class ProxyApplication
{
    /// <summary>The TLS 1.2 / 1.3 cipher suites the XKS spec names (AES-256-GCM and ChaCha20-Poly1305 only).</summary>
    public static readonly TlsCipherSuite[] CipherSuites =
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ];

    public static WebApplication Build(ProxyConfiguration configuration, Action<ILoggingBuilder>? configureLogging = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        // Quiet framework defaults that Logging__LogLevel__<category> environment variables can still override.
        builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] ??= "Warning";
        builder.Configuration["Logging:LogLevel:Microsoft.Hosting.Lifetime"] ??= "Information";
        (configureLogging ?? DefaultLogging)(builder.Logging);

        builder.Services.AddXksProxy(configuration);
        configureServices?.Invoke(builder.Services);
        builder.WebHost.ConfigureKestrel((context, kestrel) => ConfigureKestrel(kestrel, configuration.Options.Server, configuration.Options.Backend.Software?.Shamir));

        var app = builder.Build();
        var metricsPort = configuration.Options.Server.MetricsPort;
        if (metricsPort > 0)
        {
            var registry = app.Services.GetRequiredService<CollectorRegistry>();
            app.Use(async (context, next) =>
            {
                if (context.Connection.LocalPort != metricsPort)
                {
                    await next(context).ConfigureAwait(false);
                    return;
                }

                if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/metrics")
                {
                    context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                    return;
                }

                context.Response.StatusCode = StatusCodes.Status404NotFound;
            });
        }

        if (configuration.Options.Backend.Software?.Shamir is { } shamir)
        {
            // The unseal API answers on the admin listener only, and nothing else does: the XKS and metrics ports never
            // serve /admin/v1/*, and the admin port serves nothing but it.
            var adminPort = shamir.AdminPort;
            var unsealApi = app.Services.GetRequiredService<UnsealApi>();
            app.Use(async (context, next) =>
            {
                if (context.Connection.LocalPort == adminPort)
                {
                    await unsealApi.HandleAsync(context).ConfigureAwait(false);
                    return;
                }

                await next(context).ConfigureAwait(false);
            });
        }

        if (app.Services.GetRequiredService<DrainOptions>().Delay > TimeSpan.Zero)
        {
            // While draining, every HTTP/1.x response closes its connection: clients reconnect (through the load
            // balancer, to a replica that stays) instead of holding a keep-alive connection that Kestrel closes when it
            // stops. (HTTP/2 has no Connection header; Kestrel sends those clients GOAWAY when it stops.)
            var drain = app.Services.GetRequiredService<ShutdownDrain>();
            app.Use((context, next) =>
            {
                if (drain.IsDraining && HttpProtocol.IsHttp11(context.Request.Protocol))
                {
                    context.Response.Headers.Connection = "close";
                }

                return next(context);
            });
        }

        app.MapXksEndpoints();

        // Fail at start, not on the first request: load key material and run the first deep health check.
        var backend = app.Services.GetRequiredService<IKeyBackend>();
        backend.Apply(configuration);
        app.Services.GetRequiredService<ConfigurationReloader>().UpdateUnusableKeys(configuration);
        app.Services.GetRequiredService<Health.HealthMonitor>().CheckNow();
        return app;
    }

    /// <summary>JSON lines on standard output, UTC timestamps (what the proxy logs unless a test captures the logs).</summary>
    public static void DefaultLogging(ILoggingBuilder logging) =>
        logging.AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

    /// <summary>How long a client has to send its request headers.</summary>
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a request body may trickle in below 1 KB/s before the connection is dropped.</summary>
    public static readonly TimeSpan BodyGracePeriod = TimeSpan.FromSeconds(2);

    private static void ConfigureKestrel(KestrelServerOptions kestrel, ServerOptions server, SoftwareShamirOptions? shamir)
    {
        kestrel.AddServerHeader = false;
        // The edge against slow or oversized clients. KMS sends small requests at once and waits at most 250 ms for an
        // answer, so none of these limits can slow it: headers must arrive within 10 s, a body at 1 KB/s or more after
        // 2 s of grace (a slow-body attacker is dropped, not waited for), and a replica holds at most MaxConnections.
        kestrel.Limits.MaxConcurrentConnections = server.MaxConnections ?? ServerOptions.DefaultMaxConnections;
        kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
        kestrel.Limits.RequestHeadersTimeout = HeadersTimeout;
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1024, gracePeriod: BodyGracePeriod);
        kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
        kestrel.Limits.MaxRequestHeaderCount = 64;
        kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
        kestrel.Limits.Http2.MaxStreamsPerConnection = 128;
        // The keep-alive timeout stays Kestrel's (130 s), longer than clients keep idle connections (.NET and most
        // SDKs: 60 s), so in steady state the client, not the proxy, closes an idle connection (see ShutdownDrain).
        var address = IPAddress.Parse(server.Address);
        kestrel.Listen(address, server.Port, listen =>
        {
            if (server.Tls is { } tls)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                var certificates = kestrel.ApplicationServices.GetRequiredService<TlsCertificateProvider>();
                var https = new HttpsConnectionAdapterOptions
                {
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ServerCertificateSelector = (_, _) => certificates.Certificate,
                    OnAuthenticate = (_, ssl) =>
                    {
                        if (!OperatingSystem.IsWindows())
                        {
                            ssl.CipherSuitesPolicy = new CipherSuitesPolicy(CipherSuites);
                        }
                    },
                };
                if (tls.ClientCertificate is { } mtls)
                {
                    var validator = new ClientCertificateValidator(certificates, mtls.AllowedSubjects);
                    https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) => validator.Validate(certificate);
                }

                listen.UseHttps(https);
            }
            else
            {
                listen.Protocols = HttpProtocols.Http1;
            }
        });

        if (server.MetricsPort > 0)
        {
            kestrel.Listen(address, server.MetricsPort, listen => listen.Protocols = HttpProtocols.Http1);
        }

        if (shamir is not null)
        {
            // The unseal API: plain HTTP on the loopback address only, whatever server.address is. Nothing outside the
            // pod reaches it; custodians come in through `kubectl port-forward`, which the API server authorises with
            // RBAC on pods/portforward and tunnels over its own TLS — so Kubernetes RBAC decides who may unseal.
            kestrel.Listen(IPAddress.Loopback, shamir.AdminPort, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }
}
