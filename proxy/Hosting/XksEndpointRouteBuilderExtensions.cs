using Xks.Proxy.Endpoints;
using Xks.Proxy.Health;
using Xks.Proxy.Hosting;

namespace Microsoft.AspNetCore.Builder;

public static class XksEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the unauthenticated load-balancer probes and, as the fallback for every other path and method, the XKS
    /// API under each configured path prefix (the prefixes change on reload, so they are matched per request).
    /// </summary>
    public static IEndpointRouteBuilder MapXksEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var version = typeof(XksRequestHandler).Assembly.GetName().Version?.ToString(3);
        endpoints.MapGet("/ping", () => Results.Text($"pong from xks-proxy {version}\n"));
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/readyz", (HealthMonitor health, ShutdownDrain drain, ConfigFreshness freshness) =>
            drain.IsDraining
                ? Results.Text("not ready: shutting down\n", statusCode: StatusCodes.Status503ServiceUnavailable)
                : freshness.IsStale
                    ? Results.Text($"not ready: configuration not confirmed by the API server for {freshness.Age.TotalSeconds:F0} s (bound {freshness.MaxAge!.Value.TotalSeconds:F0} s)\n", statusCode: StatusCodes.Status503ServiceUnavailable)
                : health.Last is { CanServe: true }
                    ? Results.Text("ready\n")
                    : Results.Text("not ready: no key manager can serve\n", statusCode: StatusCodes.Status503ServiceUnavailable));

        var handler = endpoints.ServiceProvider.GetRequiredService<XksRequestHandler>();
        endpoints.MapFallback("{**path}", handler.HandleAsync);
        return endpoints;
    }
}
