using System.Net;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Xks.Operator.Runtime.Support.Tests;

/// <summary>
/// A loopback Kestrel that answers every request with <see cref="Handler"/> — a stand-in API server for behaviour the
/// real one will not produce on demand (410 after compaction, ERROR events, expired continue tokens).
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeApiServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public Func<HttpContext, Task> Handler { get; set; } = context =>
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    };

    /// <summary>A client of this server (plain HTTP, no credentials).</summary>
    public IKubernetes CreateClient() => new Kubernetes(new KubernetesClientConfiguration { Host = Address.ToString() });

    public static async Task<FakeApiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeApiServer? server = null;
        app.Run(context => server!.Handler(context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new FakeApiServer(app, new Uri(address));
        return server;
    }

    /// <summary>Writes one watch event line and flushes it.</summary>
    public static async Task WriteEventAsync(HttpResponse response, string type, string objectJson)
    {
        await response.WriteAsync($"{{\"type\":\"{type}\",\"object\":{objectJson}}}\n");
        await response.Body.FlushAsync();
    }

    public static string ConfigMap(string ns, string name, string resourceVersion, string? value = null) =>
        $"{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\",\"resourceVersion\":\"{resourceVersion}\"}}"
        + (value is null ? string.Empty : $",\"data\":{{\"value\":\"{value}\"}}") + "}";

    public static string ConfigMapList(string resourceVersion, string? continueToken, params string[] items) =>
        $"{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMapList\",\"metadata\":{{\"resourceVersion\":\"{resourceVersion}\""
        + (continueToken is null ? string.Empty : $",\"continue\":\"{continueToken}\"") + $"}},\"items\":[{string.Join(',', items)}]}}";

    public static string Status(int code, string reason, string message) =>
        $"{{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"metadata\":{{}},\"status\":\"Failure\",\"message\":\"{message}\",\"reason\":\"{reason}\",\"code\":{code}}}";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
