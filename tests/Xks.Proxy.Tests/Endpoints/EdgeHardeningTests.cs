using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Xks.Proxy.Audit;
using Xks.Proxy.Hosting;
using Xks.Proxy.Metrics;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>
/// The proxy's edge under hostile clients, on real Kestrel over loopback, bounded in count and time: requests that
/// cannot authenticate are refused before their body, a bad-signature flood neither slows real requests nor floods the
/// log and the audit, and a slow body is dropped after its grace period.
/// </summary>
public sealed class EdgeHardeningTests : ProxyTestBase
{
    private static readonly TimeSpan P99Bound = TimeSpan.FromMilliseconds(250);

    private string EncryptPath => $"{TestCredentials.Prefix}/kms/xks/v1/keys/foo/encrypt";

    /// <summary>Request headers that pass every check the proxy can make without the body (the signature is not the real one).</summary>
    private string HeadersClaiming(string accessKeyId, int contentLength)
    {
        var now = DateTime.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return $"POST {EncryptPath} HTTP/1.1\r\nHost: 127.0.0.1:{Server.Port}\r\nContent-Type: application/json\r\n"
            + $"Content-Length: {contentLength}\r\nX-Amz-Date: {amzDate}\r\n"
            + $"Authorization: AWS4-HMAC-SHA256 Credential={accessKeyId}/{amzDate[..8]}/{TestCredentials.Region}/kms-xks-proxy/aws4_request, "
            + $"SignedHeaders=content-type;host;x-amz-date, Signature={new string('a', 64)}\r\n\r\n";
    }

    /// <summary>
    /// A few real requests before any is timed: the first Encrypt of a test process JITs the whole path, which is not
    /// what a flood or a slow client does to the proxy.
    /// </summary>
    private async Task WarmUpAsync()
    {
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await Client.EncryptAsync("foo", [1])).Status);
        }
    }

    [Fact]
    public async Task Encrypt_UnknownAccessKeyId_RefusedBeforeTheBodyIsSent()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(HeadersClaiming("AKIDNOTCONFIGUREDNOT23", 4000)));

        // Not one body byte is sent: the answer can only come from the headers.
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        var read = await stream.ReadAsync(buffer, timeout.Token);
        var response = Encoding.ASCII.GetString(buffer, 0, read);

        Assert.StartsWith("HTTP/1.1 401", response, StringComparison.Ordinal);
        Assert.Contains("AuthenticationFailedException", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadSignatureFlood_RealRequestsStayUnder250MsAndLogAndAuditKeepTheirBudgets()
    {
        const int Flood = 2000;
        var metrics = Server.GetRequiredService<ProxyMetrics>();
        await WarmUpAsync();
        var started = Stopwatch.StartNew();
        using var attackers = new XksClient(Server.BaseAddress) { Secret = "V3Jvbmcgc2VjcmV0IGZvciB0aGUgZmxvb2QgdGVzdCBvZiB0aGUgcHJveHku" };
        using var strangers = new XksClient(Server.BaseAddress) { AccessKeyId = "AKIDSTRANGERSTRANGER23" };
        var sent = 0;
        var flood = Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Flood)
            {
                var response = await (worker % 2 == 0 ? attackers : strangers).EncryptAsync("foo", [1, 2, 3]);
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.Status);
            }
        })));

        var latencies = new List<TimeSpan>();
        while (!flood.IsCompleted && latencies.Count < 2000)
        {
            var one = Stopwatch.StartNew();
            var ok = await Client.EncryptAsync("foo", [9, 9, 9]);
            latencies.Add(one.Elapsed);
            Assert.Equal(System.Net.HttpStatusCode.OK, ok.Status);
        }

        await flood;
        var seconds = Math.Ceiling(started.Elapsed.TotalSeconds) + 1;
        latencies.Sort();
        var p99 = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
        Assert.True(latencies.Count >= 20, $"only {latencies.Count} real requests ran during the flood");
        Assert.True(p99 < P99Bound, $"p99 of {latencies.Count} real requests during a {Flood}-request flood: {p99.TotalMilliseconds:F1} ms");

        var warnings = Server.Logs.Lines.Count(l => l.Contains("SigV4 authentication failed", StringComparison.Ordinal));
        Assert.True(warnings <= XksRequestHandler.AuthenticationFailureLogsPerSecond * seconds, $"{warnings} warnings in {seconds} s");
        Assert.True(metrics.AuthenticationFailuresNotLogged.Value >= Flood - warnings - 1, $"not logged: {metrics.AuthenticationFailuresNotLogged.Value}");

        // Every real request is audited; the refused ones only within their own budget.
        string[] audit = [];
        int Count(string needle) => audit.Count(l => l.Contains(needle, StringComparison.Ordinal));
        await Eventually.HoldsAsync(
            async () =>
            {
                audit = await Server.WaitForAuditAsync("", TimeSpan.Zero);
                return Count("\"outcome\":\"Success\"") >= latencies.Count && Count("AuthenticationFailedException") + metrics.AuditUnauthenticatedDropped.Value >= Flood;
            },
            TimeSpan.FromSeconds(10), "every real request audited, every refused one audited or counted");
        var refused = Count("AuthenticationFailedException");
        Assert.True(refused <= AuditLog.UnauthenticatedRecordsPerSecond * seconds, $"{refused} audit records of refused requests in {seconds} s");
        Assert.Equal(Flood, refused + (int)metrics.AuditUnauthenticatedDropped.Value);
    }

    [Fact]
    public async Task SlowBody_ConnectionDroppedAfterItsGracePeriodWhileRealRequestsStayFast()
    {
        const int Slow = 20;
        await WarmUpAsync();
        var connections = new List<TcpClient>();
        try
        {
            for (var i = 0; i < Slow; i++)
            {
                var tcp = new TcpClient();
                connections.Add(tcp);
                await tcp.ConnectAsync("127.0.0.1", Server.Port);
                await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(HeadersClaiming(TestCredentials.AccessKeyId, 4000)));
            }

            // Each slow client sends one byte every 200 ms (5 B/s, far below 1 KB/s) until the proxy drops it; bounded at 15 s.
            var dropped = Stopwatch.StartNew();
            var trickles = connections.Select(tcp => Task.Run(async () =>
            {
                var stream = tcp.GetStream();
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                var reader = stream.ReadAsync(new byte[4096], bound.Token).AsTask();
                try
                {
                    while (!reader.IsCompleted)
                    {
                        await stream.WriteAsync("{"u8.ToArray(), bound.Token);
                        await Task.WhenAny(reader, Task.Delay(200, bound.Token));
                    }

                    await reader;
                    return dropped.Elapsed;
                }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
                {
                    return dropped.Elapsed;
                }
            })).ToList();

            var latencies = new List<TimeSpan>();
            while (trickles.Any(t => !t.IsCompleted) && latencies.Count < 2000)
            {
                var one = Stopwatch.StartNew();
                var ok = await Client.EncryptAsync("foo", [1]);
                latencies.Add(one.Elapsed);
                Assert.Equal(System.Net.HttpStatusCode.OK, ok.Status);
            }

            var ends = await Task.WhenAll(trickles);
            // Kestrel's own default (240 B/s after 5 s) would keep them past this bound.
            Assert.All(ends, end => Assert.InRange(end, TimeSpan.FromSeconds(1), ProxyApplication.BodyGracePeriod + TimeSpan.FromSeconds(2)));
            latencies.Sort();
            var p99 = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
            Assert.True(latencies.Count >= 100, $"only {latencies.Count} real requests ran beside the slow bodies");
            Assert.True(p99 < P99Bound, $"p99 of {latencies.Count} real requests beside {Slow} slow bodies: {p99.TotalMilliseconds:F1} ms");
        }
        finally
        {
            foreach (var tcp in connections)
            {
                tcp.Dispose();
            }
        }
    }

    [Fact]
    public async Task Encrypt_BadSignatureWithAKnownAccessKeyId_StillRefusedAfterTheBody()
    {
        using var forger = new XksClient(Server.BaseAddress) { Secret = "V3Jvbmcgc2VjcmV0IGZvciB0aGUgZmxvb2QgdGVzdCBvZiB0aGUgcHJveHku" };

        var response = await forger.PostAsync("keys/foo/encrypt", new JsonObject
        {
            ["requestMetadata"] = XksClient.Metadata("Encrypt"),
            ["plaintext"] = Convert.ToBase64String([1, 2, 3]),
            ["encryptionAlgorithm"] = "AES_GCM",
            ["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256",
        });

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("AuthenticationFailedException", response.ErrorName);
    }
}
