using System.Collections.Frozen;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Hosting;
using Xks.Proxy.Tls;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// The baseline: bare Kestrel with the proxy's runtime, listener and TLS settings, answering
/// <c>POST /bare/{name}</c> with the fixed JSON body in <c>&lt;responses&gt;/{name}.json</c> (a recorded proxy response,
/// so both send the same bytes). It stops when its standard input closes, that is when the benchmark exits.
/// <para>Arguments: <c>--port N --responses DIR [--certificate PEM --key PEM]</c>.</para>
/// </summary>
internal static class BareServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = Parse(args);
        var responses = Directory.GetFiles(options["--responses"], "*.json")
            .ToFrozenDictionary(f => Path.GetFileNameWithoutExtension(f), File.ReadAllBytes, StringComparer.Ordinal);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => Listen(kestrel, options));
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapPost("/bare/{name}", context =>
        {
            if (!responses.TryGetValue((string)context.Request.RouteValues["name"]!, out var body))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
        });

        _ = Task.Run(() => StopWhenInputClosesAsync(app.Lifetime));
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    private static void Listen(KestrelServerOptions kestrel, Dictionary<string, string> options)
    {
        kestrel.AddServerHeader = false;
        kestrel.Listen(IPAddress.Loopback, int.Parse(options["--port"], System.Globalization.CultureInfo.InvariantCulture), listen =>
        {
            if (!options.TryGetValue("--certificate", out var certificateFile))
            {
                listen.Protocols = HttpProtocols.Http1;
                return;
            }

            var certificate = TlsCertificateProvider.LoadCertificate(new TlsOptions { CertificateFile = certificateFile, PrivateKeyFile = options["--key"] });
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ServerCertificateSelector = (_, _) => certificate,
                OnAuthenticate = (_, ssl) =>
                {
                    if (!OperatingSystem.IsWindows())
                    {
                        ssl.CipherSuitesPolicy = new CipherSuitesPolicy(ProxyApplication.CipherSuites);
                    }
                },
            });
        });
    }

    // Console input reads block, hence Task.Run above.
    private static async Task StopWhenInputClosesAsync(IHostApplicationLifetime lifetime)
    {
        await Console.In.ReadToEndAsync().ConfigureAwait(false);
        lifetime.StopApplication();
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i]] = args[i + 1];
        }

        return options;
    }
}
