using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Xks.Proxy.Health;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>
/// Tokens failing under the running proxy: a token taken away (its SoftHSM2 directory moved out, as if the HSM were
/// unplugged) and given back, one of two tokens holding the same key failing under load, and a session pool too
/// small for the load. Each test has its own tokens and library copies, so re-initialising a module never touches
/// another test's.
/// </summary>
public sealed class Pkcs11AvailabilityTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TokenRemovedWhileServing_FailsAndReportsUnavailable_ThenRecoversWhenItReturns()
    {
        // A fake clock drives the recovery loop and the health cache, so each health answer below is the one of that
        // step: nothing checks in the background unless the test moves the clock.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var token = Pkcs11TestToken.Create("removed");
        await using var server = await ProxyServer.StartAsync(b =>
        {
            b.Pkcs11 = token;
            b.Key("foo");
        }, clock);
        using var client = new XksClient(server.BaseAddress);
        var health = server.GetRequiredService<HealthMonitor>();
        string CheckAfter(int milliseconds)
        {
            clock.Advance(TimeSpan.FromMilliseconds(milliseconds));
            return health.CheckNow().Members.Single().HealthStatus;
        }

        var before = await client.EncryptAsync("foo", [1, 2, 3]);
        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal("ACTIVE", CheckAfter(100));

        SoftHsm.Shared.RemoveToken(token.Label);
        try
        {
            var failed = await client.EncryptAsync("foo", [1, 2, 3]);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.Status);
            Assert.Equal("InternalException", failed.ErrorName);
            Assert.Equal("InternalException", (await client.DecryptAsync("foo", before)).ErrorName);
            Assert.Equal("UNAVAILABLE", CheckAfter(100));
            Assert.Equal("InternalException", (await client.HealthAsync()).ErrorName);
            Assert.Contains($"PKCS#11 token {token.Label} ({token.Library}) is unavailable", server.Logs.AllText, StringComparison.Ordinal);
        }
        finally
        {
            SoftHsm.Shared.RestoreToken(token.Label);
        }

        clock.Advance(TimeSpan.FromSeconds(1)); // one recovery interval: the module is re-initialised, the token checked
        var recovered = $"PKCS#11 token {token.Label} ({token.Library}) recovered and serves again";
        await Eventually.HoldsAsync(() => Task.FromResult(server.Logs.AllText.Contains(recovered, StringComparison.Ordinal)), Within, "the recovery pass");

        Assert.Equal("DEGRADED", CheckAfter(100)); // just recovered
        Assert.Equal("ACTIVE", CheckAfter(100));   // one clean check later
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [4])).Status);
        Assert.Equal([1, 2, 3], (await client.DecryptAsync("foo", before)).Bytes("plaintext"));
        Assert.DoesNotContain(token.Pin, server.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoTokensWithTheSameKey_OneRemovedUnderLoad_NoRequestFails()
    {
        var a = Pkcs11TestToken.Create("pair-a");
        var b = Pkcs11TestToken.Create("pair-b", a.Pin);
        var material = RandomNumberGenerator.GetBytes(32);
        // An HSM cluster replicates its keys; independent SoftHSM2 tokens get the same value imported instead.
        SoftHsm.Shared.ImportAesKey(a.Label, a.Pin, "foo/v1", material);
        SoftHsm.Shared.ImportAesKey(b.Label, b.Pin, "foo/v1", material);
        CryptographicOperations.ZeroMemory(material);
        await using var server = await ProxyServer.StartAsync(builder =>
        {
            builder.Pkcs11 = a;
            builder.Pkcs11MoreTokens.Add(b);
            builder.Pkcs11CreateMissingKeys = false;
            builder.Pkcs11Extra = "sessionPool:\n  maxSessions: 4\n  waitTimeoutMilliseconds: 10000";
            builder.Key("foo");
        });
        using var client = new XksClient(server.BaseAddress);
        var health = server.GetRequiredService<HealthMonitor>();
        Assert.Equal(["ACTIVE", "ACTIVE"], health.CheckNow().Members.Select(m => m.HealthStatus));
        var made = await client.EncryptAsync("foo", [9, 9]);

        var failures = new ConcurrentQueue<string>();
        var completed = 0;
        using var stop = new CancellationTokenSource();
        async Task WorkerAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var plaintext = RandomNumberGenerator.GetBytes(64);
                var encrypted = await client.EncryptAsync("foo", plaintext);
                var decrypted = encrypted.Status == HttpStatusCode.OK ? await client.DecryptAsync("foo", encrypted) : encrypted;
                if (decrypted.Status != HttpStatusCode.OK || !plaintext.AsSpan().SequenceEqual(decrypted.Bytes("plaintext")))
                {
                    failures.Enqueue($"{decrypted.Status} {decrypted.Body}");
                }

                Interlocked.Increment(ref completed);
            }
        }

        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(WorkerAsync)).ToList();
        await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref completed) >= 50), Within, "load before the failure");
        SoftHsm.Shared.RemoveToken(a.Label);
        try
        {
            var atRemoval = Volatile.Read(ref completed);
            await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref completed) >= atRemoval + 200), Within, "load after the failure");
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            Assert.Empty(failures);
            Assert.Equal(["UNAVAILABLE", "ACTIVE"], health.CheckNow().Members.Select(m => m.HealthStatus));
            var status = await client.HealthAsync();
            Assert.Equal(HttpStatusCode.OK, status.Status);
            Assert.Equal([a.Label, b.Label], status.Json!["ekmFleetDetails"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
            Assert.Equal([9, 9], (await client.DecryptAsync("foo", made)).Bytes("plaintext"));
        }
        finally
        {
            await stop.CancelAsync();
            SoftHsm.Shared.RestoreToken(a.Label);
        }

        await Eventually.HoldsAsync(() => Task.FromResult(health.CheckNow().Members[0].HealthStatus != "UNAVAILABLE"), Within, "the first token recovers");
    }

    [Fact]
    public async Task Start_OneOfTwoTokensUnreachable_ServesWithThatTokenUnavailable()
    {
        var token = Pkcs11TestToken.Create("reachable");
        var absent = new Pkcs11TestToken(SoftHsm.Shared.CopyLibrary("absent"), "absent-" + Guid.NewGuid().ToString("N")[..8], token.Pin);
        await using var server = await ProxyServer.StartAsync(b =>
        {
            b.Pkcs11 = token;
            b.Pkcs11MoreTokens.Add(absent);
            b.Key("foo");
        });
        using var client = new XksClient(server.BaseAddress);

        var health = await client.HealthAsync();

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal(
            [(token.Label, "ACTIVE"), (absent.Label, "UNAVAILABLE")],
            health.Json!["ekmFleetDetails"]!.AsArray().Select(m => (m!["id"]!.GetValue<string>(), m["healthStatus"]!.GetValue<string>())));
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);
        Assert.Contains($"PKCS#11 token {absent.Label} ({absent.Library}) is unavailable, requests go to the other tokens: PKCS#11 library '{absent.Library}' has no token '{absent.Label}'", server.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionPoolExhaustedUnderLoad_AnswersOnlyDependencyTimeout_NeverAServerError()
    {
        var token = Pkcs11TestToken.Create("pool");
        await using var server = await ProxyServer.StartAsync(b =>
        {
            b.Pkcs11 = token;
            b.Pkcs11Extra = "sessionPool:\n  maxSessions: 1\n  waitTimeoutMilliseconds: 0";
            b.Key("foo");
        });
        using var client = new XksClient(server.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);

        var answers = new ConcurrentBag<(HttpStatusCode Status, string? Error)>();
        for (var round = 0; round < 5; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                var response = await client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(4300));
                answers.Add((response.Status, response.ErrorName));
            })));
        }

        var unexpected = answers.Where(a => a.Status != HttpStatusCode.OK && (a.Status, a.Error) != (HttpStatusCode.ServiceUnavailable, "DependencyTimeoutException")).ToList();
        Assert.Empty(unexpected);
        Assert.Contains(answers, a => a.Status == HttpStatusCode.ServiceUnavailable);
        Assert.Contains(answers, a => a.Status == HttpStatusCode.OK);
        // The proxy is unharmed: a request alone is served.
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [2])).Status);
    }
}
