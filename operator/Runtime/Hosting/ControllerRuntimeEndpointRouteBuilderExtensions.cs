using Prometheus;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Hosting;

namespace Microsoft.AspNetCore.Builder;

public static class ControllerRuntimeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>/healthz</c> (200 unless the manager failed for good), <c>/readyz</c> (200 once every informer synced,
    /// or while this replica is a standby; 503 with the kinds still syncing otherwise) and <c>/metrics</c> (the
    /// runtime's <see cref="CollectorRegistry"/>, Prometheus text format).
    /// </summary>
    public static IEndpointRouteBuilder MapXksControllerRuntime(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var manager = endpoints.ServiceProvider.GetRequiredService<ControllerManager>();
        var registry = endpoints.ServiceProvider.GetRequiredService<ControllerRuntimeMetrics>().Registry;

        endpoints.MapGet("/healthz", () => manager.IsHealthy
            ? Results.Text("ok\n")
            : Results.Text("failed\n", statusCode: StatusCodes.Status500InternalServerError));
        endpoints.MapGet("/readyz", () => manager.IsReady
            ? Results.Text(manager.ReadinessDetail + "\n")
            : Results.Text("not ready: " + manager.ReadinessDetail + "\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        endpoints.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        return endpoints;
    }
}
