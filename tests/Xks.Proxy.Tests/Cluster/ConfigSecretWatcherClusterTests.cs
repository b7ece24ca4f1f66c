using System.Net;
using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Cluster.Tests;

/// <summary>
/// Cluster mode against the real control plane: the proxy configured by a Secret, the Secret changed with the
/// admin client as the operator will change it, and the proxy called with SigV4-signed requests.
/// </summary>
public sealed class ConfigSecretWatcherClusterTests
{
    /// <summary>"Within seconds": the watch delivers in well under a second here; the margin is for a loaded machine.</summary>
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SecretChange_KeyDisabledThenEnabled_AppliesWithinSeconds()
    {
        await using var server = await ClusterProxyServer.StartAsync(b => b.Key("foo"), keyMaterial: ["foo"]);
        using var client = new XksClient(server.BaseAddress);
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var encrypted = await client.EncryptAsync("foo", plaintext);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);

        await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo", enabled: false));
        await Eventually.HoldsAsync(async () => (await client.DecryptAsync("foo", encrypted)).ErrorName == "InvalidStateException", Within, "key disabled");
        Assert.Equal("DISABLED", (await client.MetadataAsync("foo"))["keyStatus"]);

        await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo"));
        await Eventually.HoldsAsync(async () => (await client.DecryptAsync("foo", encrypted)).Status == HttpStatusCode.OK, Within, "key enabled again");
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", encrypted)).Bytes("plaintext"));
        Assert.Contains(server.Logs.Lines, l => l.Contains("[ConfigReloaded]", StringComparison.Ordinal) && l.Contains($"Secret {server.Namespace}/", StringComparison.Ordinal));

        // Delivered by the watch, not by a relist after some failure.
        Assert.Contains(server.Logs.Lines, l => l.Contains("[ClusterConfigWatching]", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("[ClusterConfigWatchFailed]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecretChange_CredentialAddedThenOldRemoved_RotatesWithoutAFailedRequest()
    {
        await using var server = await ClusterProxyServer.StartAsync(b => b.Key("foo"), keyMaterial: ["foo"]);
        using var oldClient = new XksClient(server.BaseAddress);
        using var newClient = new XksClient(server.BaseAddress) { AccessKeyId = TestCredentials.SecondAccessKeyId, Secret = TestCredentials.SecondSecret };
        Assert.Equal("AuthenticationFailedException", (await newClient.HealthAsync()).ErrorName);

        await server.RewriteSecretAsync(b => b.Credential(TestCredentials.SecondAccessKeyId, TestCredentials.SecondSecret));
        await Eventually.HoldsAsync(async () => (await newClient.HealthAsync()).Status == HttpStatusCode.OK, Within, "second credential accepted");
        Assert.Equal(HttpStatusCode.OK, (await oldClient.HealthAsync()).Status);

        await server.RewriteSecretAsync(b => b.WithoutDefaultCredential());
        await Eventually.HoldsAsync(async () => (await oldClient.HealthAsync()).ErrorName == "AuthenticationFailedException", Within, "first credential dropped");
        Assert.Equal(HttpStatusCode.OK, (await newClient.HealthAsync()).Status);
        AssertNoSecretsIn(server.Logs.AllText);
    }

    [Fact]
    public async Task SecretChange_InvalidDocument_KeepsTheOldConfigServing_AndLogsEveryProblem()
    {
        await using var server = await ClusterProxyServer.StartAsync(b => b.Key("foo"), keyMaterial: ["foo"]);
        using var client = new XksClient(server.BaseAddress);

        var invalid = server.Render()
            .Replace("fleetSize: 2", "fleetSize: 0", StringComparison.Ordinal)
            .Replace("id: foo", "id: \"bad id\"", StringComparison.Ordinal);
        await server.WriteSecretAsync(invalid);
        var rejected = await server.WaitForLogAsync("[ConfigReloadRejected]");
        Assert.Contains("health.fleetSize", rejected, StringComparison.Ordinal);
        Assert.Contains("keyStores[0].keys[0].id", rejected, StringComparison.Ordinal);
        Assert.Contains($"Secret {server.Namespace}/{ClusterProxyServer.SecretName}", rejected, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1, 2, 3])).Status);

        // Not YAML at all, and then a Secret without the proxy.yaml key: both refused, the old config still serves.
        await server.WriteSecretAsync("keyStores: [ {");
        await Eventually.HoldsAsync(() => Task.FromResult(server.Logs.Lines.Count(l => l.Contains("[ConfigReloadRejected]", StringComparison.Ordinal)) >= 2), Within, "YAML error logged");
        await server.WriteSecretAsync("whatever", key: "other.yaml");
        await server.WaitForLogAsync("has no key 'proxy.yaml'");
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1, 2, 3])).Status);

        // A valid version after the invalid ones applies.
        await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo", enabled: false));
        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("foo", [1])).ErrorName == "InvalidStateException", Within, "valid version applied");
        AssertNoSecretsIn(server.Logs.AllText);
    }

    [Fact]
    public async Task SecretDeleted_KeepsServing_AndARecreatedSecretApplies()
    {
        await using var server = await ClusterProxyServer.StartAsync(b => b.Key("foo"), keyMaterial: ["foo"]);
        using var client = new XksClient(server.BaseAddress);

        await server.DeleteSecretAsync();
        await server.WaitForLogAsync("[ClusterConfigSecretDeleted]");
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1, 2, 3])).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.HealthAsync()).Status);

        await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo", enabled: false));
        await server.WaitForLogAsync("[ClusterConfigSecretBack]");
        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("foo", [1])).ErrorName == "InvalidStateException", Within, "recreated Secret applied");
    }

    [Fact]
    public async Task ZeroKeyStores_ProbesAnswer_AndEveryXksPathIs404_UntilAKeyStoreArrives()
    {
        await using var server = await ClusterProxyServer.StartAsync(b => b.NoKeyStores = true);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var client = new XksClient(server.BaseAddress);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
        var health = await client.HealthAsync();
        Assert.Equal(HttpStatusCode.NotFound, health.Status);
        Assert.Equal("InvalidUriPathException", health.ErrorName);
        Assert.Equal("InvalidUriPathException", (await client.EncryptAsync("foo", [1])).ErrorName);

        // The operator renders the first KeySet: its key store serves at once.
        await server.RewriteSecretAsync(b => b.NoKeyStores = false);
        await Eventually.HoldsAsync(async () => (await client.HealthAsync()).Status == HttpStatusCode.OK, Within, "first key store served");

        // And back to none (the KeySet deleted): 404 again, probes still fine.
        await server.RewriteSecretAsync(b => b.NoKeyStores = true);
        await Eventually.HoldsAsync(async () => (await client.HealthAsync()).ErrorName == "InvalidUriPathException", Within, "key store removed");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task KeyMaterialWrittenLater_IsServedWithoutAConfigChange_AndTheProxyWritesNothing()
    {
        await using var server = await ClusterProxyServer.StartAsync(b => b.Key("foo").Key("bar"), keyMaterial: ["foo"]);
        using var client = new XksClient(server.BaseAddress);
        var before = Tree(server.DataDir);
        Assert.Equal("KeyNotFoundException", (await client.EncryptAsync("bar", [1])).ErrorName);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);
        Assert.Equal(before, Tree(server.DataDir));
        Assert.False(File.Exists(Path.Combine(server.DataDir, "master.key")));

        server.WriteKeyMaterial("bar");
        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("bar", [1])).Status == HttpStatusCode.OK, Within, "new key material served");
    }

    [Fact]
    public async Task ApiServerUnreachable_KeepsServing_WarnsAndCatchesUpWhenItIsBack()
    {
        var apiServer = new Uri(ClusterProxyServer.Cluster.Configuration.Host);
        await using var relay = new TcpRelay(new IPEndPoint(IPAddress.Loopback, apiServer.Port));
        await using var server = await ClusterProxyServer.StartAsync(
            b => b.Key("foo"),
            keyMaterial: ["foo"],
            connection: k => k.Host = $"https://127.0.0.1:{relay.Port}");
        using var client = new XksClient(server.BaseAddress);
        await server.WaitForLogAsync("[ClusterConfigWatching]");

        await relay.StopAsync();
        await server.WaitForLogAsync("[ClusterConfigWatchFailed]");
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1, 2, 3])).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.HealthAsync()).Status);

        // Changed while the proxy cannot see it: applied once the API server is reachable again (list, then watch).
        await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo", enabled: false));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);

        relay.Start();
        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("foo", [1])).ErrorName == "InvalidStateException", Within, "change made during the outage applied");
        await server.WaitForLogAsync("[ClusterConfigWatchRecovered]");

        // And the watch works again for the next change.
        await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo"));
        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("foo", [1])).Status == HttpStatusCode.OK, Within, "next change applied");
    }

    internal static void AssertNoSecretsIn(string text)
    {
        Assert.DoesNotContain(TestCredentials.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(TestCredentials.SecondSecret, text, StringComparison.Ordinal);
    }

    private static string Tree(string directory) => string.Join('\n', Directory
        .EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal)
        .Select(p => File.Exists(p) ? $"{p} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks}" : p + "/"));
}
