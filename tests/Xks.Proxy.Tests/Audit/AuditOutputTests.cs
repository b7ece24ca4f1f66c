using System.Text.Json;
using Xks.Proxy.Conformance.Tests;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Audit.Tests;

/// <summary>The audit on standard output beside the console log, in a real proxy process: every line stays whole.</summary>
public sealed class AuditOutputTests
{
    [Fact]
    public async Task AuditAndLogOnStandardOutput_ManyConcurrentRefusals_EveryJsonLineParses()
    {
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(directory, port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data")));
        using var client = new XksClient(proxy.BaseAddress)
        {
            Prefix = ConformanceProxy.Prefix,
            AccessKeyId = ConformanceProxy.AccessKeyId,
            Secret = ConformanceProxy.Secret,
            Region = ConformanceProxy.Region,
        };

        // Each refusal writes an audit line and an Information log line with a long detail, from many threads at once.
        const int Requests = 600;
        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Requests)
            {
                var response = await client.EncryptAsync("no-such-key-" + new string('x', 100), [1, 2, 3]);
                Assert.Equal("KeyNotFoundException", response.ErrorName);
            }
        })));
        await proxy.StopAsync();

        var lines = proxy.StandardOutput.Split('\n').Where(l => l.StartsWith('{')).ToList();
        var broken = lines.Where(l => !Parses(l)).ToList();
        Assert.True(broken.Count == 0, $"{broken.Count} of {lines.Count} JSON lines are broken, e.g.:\n{string.Join('\n', broken.Take(2))}");
        Assert.True(lines.Count(l => l.Contains("xks-audit", StringComparison.Ordinal)) >= Requests, $"audit lines: {lines.Count(l => l.Contains("xks-audit", StringComparison.Ordinal))}");
    }

    private static bool Parses(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
