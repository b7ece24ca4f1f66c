using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xks.Operator.Entities;
using Xks.Operator.Hosting;
using Xks.Operator.Options;
using Xks.Operator.Runtime.Support.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// What the proxy and the operator really export, scraped once per test class:
/// <list type="bullet">
/// <item>the proxy: a child process serving config/proxy/standalone.yaml (temporary data directory, free ports), sent
/// a health check, a good Encrypt and two failing requests with <c>curl --aws-sigv4</c> as KMS signs them, then
/// its metrics port scraped;</item>
/// <item>the operator: hosted as Program.cs hosts it (<c>AddXksOperator</c> + <c>MapXksControllerRuntime</c> on
/// Kestrel) against a stand-in API server that lists one Vault, KeySet and CloudKey and answers everything else
/// with an empty list or 404, then its <c>/metrics</c> scraped once the informers reported the resources and the
/// controllers reconciled. No AWS call is made, so one recorded call gives the AWS families their series.</item>
/// </list>
/// </summary>
public sealed class ExportedMetrics : IAsyncLifetime
{
    private const string AccessKeyId = "BETWEEN2TENAND3TENCHARACTERS";
    private const string Secret = "PleaseReplaceThisWithSomeSecretOfLength43To64";
    private const string Prefix = "/example/uri/path/prefix/kms/xks/v1";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    internal PrometheusText Proxy { get; private set; } = null!;

    internal PrometheusText Operator { get; private set; } = null!;

    /// <summary>HTTP status of each request sent to the proxy, in order (health, Encrypt, Encrypt of a disabled key, metadata of an unknown key).</summary>
    internal IReadOnlyList<int> ProxyAnswers { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Proxy = await ScrapeProxyAsync();
        Operator = await ScrapeOperatorAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<PrometheusText> ScrapeProxyAsync()
    {
        var directory = TemporaryDirectory.Create("xks-metrics-proxy");
        try
        {
            var config = Path.Combine(directory, "config.yaml");
            var standalone = await File.ReadAllTextAsync(Path.Combine(LocalCluster.RepositoryRoot, "config", "proxy", "standalone.yaml"));
            await File.WriteAllTextAsync(config, string.Join('\n', standalone.Split('\n').Select(line =>
                line.TrimStart().StartsWith("dataDir:", StringComparison.Ordinal) ? "    dataDir: " + Path.Combine(directory, "data") : line)));
            var metricsPort = TestPorts.GetFree();
            using var http = new HttpClient();
            var (process, port) = await ChildProcess.StartWithPortRetryAsync(async chosen =>
            {
                var started = await ChildProcess.StartAsync(
                    ProxyCommand.Options(["serve", "--config", config, "--port", chosen.ToString(CultureInfo.InvariantCulture), "--metrics-port", metricsPort.ToString(CultureInfo.InvariantCulture)], directory),
                    p => p.WaitForHttpAsync(http, new Uri($"http://127.0.0.1:{chosen}/readyz"), Within));
                return (started, chosen);
            });
            await using (process)
            {
                var baseUrl = $"http://127.0.0.1:{port}{Prefix}";
                ProxyAnswers =
                [
                    await XksAsync($"{baseUrl}/health", """{"requestMetadata":{"kmsRequestId":"m-1","kmsOperation":"KmsHealthCheck"}}"""),
                    await XksAsync($"{baseUrl}/keys/foo/encrypt", Encrypt("m-2")),
                    await XksAsync($"{baseUrl}/keys/switched-off/encrypt", Encrypt("m-3")),
                    await XksAsync($"{baseUrl}/keys/no-such-key/metadata", """{"requestMetadata":{"kmsRequestId":"m-4","kmsOperation":"DescribeKey","awsPrincipalArn":"arn:aws:iam::123456789012:user/Alice"}}"""),
                ];
                return PrometheusText.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics")));
            }
        }
        finally
        {
            TemporaryDirectory.TryDelete(directory);
        }
    }

    private static string Encrypt(string requestId) =>
        $$"""{"requestMetadata":{"kmsRequestId":"{{requestId}}","kmsOperation":"Encrypt","awsPrincipalArn":"arn:aws:iam::123456789012:user/Alice","kmsKeyArn":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},"plaintext":"aGVsbG8=","encryptionAlgorithm":"AES_GCM"}""";

    /// <summary>One XKS request signed by curl as KMS signs it; its HTTP status.</summary>
    private static async Task<int> XksAsync(string url, string body)
    {
        var result = (await LocalCluster.RunAsync(
            "curl",
            $"-s -o /dev/null -w \"%{{http_code}}\" --aws-sigv4 aws:amz:us-east-1:kms-xks-proxy --user {AccessKeyId}:{Secret} -H \"Content-Type: application/json\" --data-binary @- {url}", body)).EnsureSuccess("curl " + url);
        return int.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task<PrometheusText> ScrapeOperatorAsync()
    {
        await using var api = await FakeApiServer.StartAsync();
        api.Handler = StandInApi;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(api.CreateClient());
        builder.Services.AddXksOperator(new OperatorOptions { LeaderElect = false }, new OperatorEnvironment("metrics-test", "v1"));
        await using var app = builder.Build();
        app.MapXksControllerRuntime();
        await app.StartAsync();
        try
        {
            new Aws.AwsMetrics(app.Services.GetRequiredService<Runtime.ControllerRuntimeMetrics>().Registry)
                .RecordCall("kms", "DescribeKey", Aws.AwsMetrics.Success, TimeSpan.FromMilliseconds(20));
            new Aws.AwsMetrics(app.Services.GetRequiredService<Runtime.ControllerRuntimeMetrics>().Registry)
                .RecordWait("kms", TimeSpan.FromMilliseconds(1));
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            PrometheusText scrape = null!;
            await Eventually.HoldsAsync(
                async () =>
                {
                    scrape = PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
                    return scrape.SeriesOf("xks_resource_condition").Count > 0
                        && scrape.SeriesOf("xks_keyset_connection_state").Count > 0
                        && scrape.SeriesOf("xks_operator_reconcile_duration_seconds_count").Any(s => scrape.Samples[s] > 0);
                },
                Within,
                "the operator's /metrics with the listed resources and a reconcile");
            return scrape;
        }
        finally
        {
            await app.StopAsync();
        }
    }

    /// <summary>Lists one Vault, KeySet and CloudKey (and nothing else), holds watches open, refuses every write.</summary>
    private static async Task StandInApi(HttpContext context)
    {
        var request = context.Request;
        if (request.Method != HttpMethods.Get)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync(FakeApiServer.Status(404, "NotFound", "stand-in API server"));
            return;
        }

        if (request.Query["watch"] is { Count: > 0 } watch && watch[0] is "true" or "1")
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        var path = request.Path.Value ?? "";
        var items = path.EndsWith("/vaults", StringComparison.Ordinal) ? KubernetesJson.Serialize(Vault())
            : path.EndsWith("/keysets", StringComparison.Ordinal) ? KubernetesJson.Serialize(KeySet())
            : path.EndsWith("/cloudkeys", StringComparison.Ordinal) ? KubernetesJson.Serialize(CloudKey())
            : path.EndsWith("/cspaccounts", StringComparison.Ordinal) ? KubernetesJson.Serialize(CspAccount())
            : "";
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($$"""{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"7"},"items":[{{items}}]}""");
    }

    private static V1ObjectMeta Meta(string name) => new() { NamespaceProperty = "team-a", Name = name, Uid = Guid.NewGuid().ToString(), ResourceVersion = "5", Generation = 1 };

    private static V1Alpha1Vault Vault()
    {
        var vault = new V1Alpha1Vault { Metadata = Meta("v") };
        vault.Spec.Hostname = "xks.example.com";
        vault.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.False, Reason = "Progressing" });
        vault.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.ProxyAvailable, Status = ConditionStatus.False, Reason = "Progressing" });
        vault.Status.Certificate = new V1Alpha1VaultCertificateStatus { NotAfter = new DateTime(2027, 3, 1, 0, 0, 0, DateTimeKind.Utc) };
        return vault;
    }

    private static V1Alpha1KeySet KeySet()
    {
        var keySet = new V1Alpha1KeySet { Metadata = Meta("ks") };
        keySet.Spec.VaultRef = new V1Alpha1LocalObjectReference { Name = "v" };
        keySet.Spec.CredentialRotation = new V1Alpha1Rotation { Every = "24h" };
        keySet.Status.ConnectionState = "CONNECTED";
        keySet.Status.LastRotationTime = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        keySet.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Connected" });
        return keySet;
    }

    private static V1Alpha1CspAccount CspAccount()
    {
        var account = new V1Alpha1CspAccount { Metadata = Meta("production") };
        account.Spec.Region = "eu-west-1";
        account.Status.AccessKey = new V1Alpha1AccessKeyStatus { Id = "AKIAIOSFODNN7EXAMPLE", NextRotation = new DateTime(2027, 1, 1, 0, 0, 0, DateTimeKind.Utc) };
        account.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Verified" });
        return account;
    }

    private static V1Alpha1CloudKey CloudKey()
    {
        var key = new V1Alpha1CloudKey { Metadata = Meta("ck") };
        key.Spec.KeySetRef = new V1Alpha1LocalObjectReference { Name = "ks" };
        key.Spec.Expiration = new V1Alpha1KeyExpiration { At = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc) };
        key.Spec.Rotation = new V1Alpha1Rotation { Every = "720h" };
        key.Status.CurrentVersionCreatedTime = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        key.Status.NextRotationTime = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        key.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Ready" });
        return key;
    }
}
