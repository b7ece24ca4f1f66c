using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// A loopback stand-in for the API server's Secret endpoints, scripted per request, for what a real API server will
/// not do on demand (a 410 Gone in the middle of a watch). Get and list answer the current Secret; each watch request
/// plays the next scripted stream of events, then stays open until the client leaves.
/// </summary>
public sealed class FakeSecretApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Channel<WatchScript> _watchScripts = Channel.CreateUnbounded<WatchScript>();
    private CancellationTokenSource _partition = new();

    private FakeSecretApiServer(WebApplication app) => _app = app;

    /// <summary>The Secret get and list answer (null: 404 and an empty list); its resourceVersion is the list's.</summary>
    public V1Secret? Secret { get; set; }

    /// <summary>Every request as "METHOD path?query", in order.</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    public string Host { get; private set; } = "";

    /// <summary>While true every request fails with 503 and no watch delivers anything: a replica cut off from the API server.</summary>
    public bool Partitioned { get; private set; }

    /// <summary>Cuts the API server off: open watches drop, every request answers 503.</summary>
    public void Partition()
    {
        Partitioned = true;
        _partition.Cancel();
    }

    /// <summary>Ends <see cref="Partition"/>.</summary>
    public void Heal()
    {
        _partition = new CancellationTokenSource();
        Partitioned = false;
    }

    public static async Task<FakeSecretApiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeSecretApiServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.Host = app.Urls.First();
        return server;
    }

    public static V1Secret NewSecret(string ns, string name, string resourceVersion, string yaml) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, ResourceVersion = resourceVersion },
        Data = new Dictionary<string, byte[]> { ["proxy.yaml"] = Encoding.UTF8.GetBytes(yaml) },
    };

    public static string Event(string type, object item) => KubernetesJson.Serialize(new Dictionary<string, object> { ["type"] = type, ["object"] = item });

    /// <summary>What the API server sends when the watch's resourceVersion is compacted away (V1Status does not serialise).</summary>
    public static string Gone() =>
        """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 10 (30)","reason":"Expired","code":410}}""";

    public static string Bookmark(string resourceVersion) => Event("BOOKMARK", new V1Secret { ApiVersion = "v1", Kind = "Secret", Metadata = new V1ObjectMeta { ResourceVersion = resourceVersion } });

    /// <summary>
    /// Queues what the next watch request gets: <paramref name="before"/> runs when it arrives, then the events are
    /// sent; the stream then ends (<paramref name="close"/>, as the server does at timeoutSeconds) or stays open.
    /// </summary>
    public void ScriptWatch(string[] events, Action? before = null, bool close = false) =>
        _watchScripts.Writer.TryWrite(new WatchScript(events, before, close));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        _requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
        context.Response.ContentType = "application/json";
        if (Partitioned)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("""{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503}""");
            return;
        }

        var partition = _partition.Token;
        var secret = Secret;
        if (context.Request.Query["watch"] is ["true" or "1"])
        {
            await context.Response.StartAsync();
            if (_watchScripts.Reader.TryRead(out var script))
            {
                script.Before?.Invoke();
                foreach (var line in script.Events)
                {
                    await context.Response.WriteAsync(line + "\n");
                    await context.Response.Body.FlushAsync();
                }

                if (script.Close)
                {
                    return;
                }
            }

            try
            {
                using var open = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, partition);
                await Task.Delay(Timeout.Infinite, open.Token);
            }
            catch (OperationCanceledException) when (partition.IsCancellationRequested)
            {
                context.Abort();
            }
            catch (OperationCanceledException)
            {
            }

            return;
        }

        if (context.Request.Path.Value!.EndsWith("/secrets", StringComparison.Ordinal))
        {
            var list = new V1SecretList
            {
                ApiVersion = "v1",
                Kind = "SecretList",
                Metadata = new V1ListMeta { ResourceVersion = secret?.Metadata.ResourceVersion ?? "1" },
                Items = secret is null ? [] : [secret],
            };
            await context.Response.WriteAsync(KubernetesJson.Serialize(list));
            return;
        }

        if (secret is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("""{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
            return;
        }

        await context.Response.WriteAsync(KubernetesJson.Serialize(secret));
    }

    private sealed record WatchScript(string[] Events, Action? Before, bool Close);
}
