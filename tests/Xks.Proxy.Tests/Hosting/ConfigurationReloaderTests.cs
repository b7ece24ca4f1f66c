using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Crypto;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Hosting.Tests;

public sealed class ConfigurationReloaderTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConfigChange_KeyDisabled_IsRefusedWithinSeconds_AndEnabledAgainServesOldCiphertexts()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"));
        using var client = new XksClient(server.BaseAddress);
        var encrypted = await client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(32));

        await server.RewriteConfigAsync(b => Replace(b, () => b.Key("foo", enabled: false)));
        await Eventually(async () => (await client.DecryptAsync("foo", encrypted)).ErrorName == "InvalidStateException");
        Assert.Equal("DISABLED", (await client.MetadataAsync("foo"))["keyStatus"]);

        await server.RewriteConfigAsync(b => Replace(b, () => b.Key("foo")));
        await Eventually(async () => (await client.DecryptAsync("foo", encrypted)).Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConfigChange_Invalid_KeepsTheOldConfigServingAndLogsEveryProblem()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"));
        using var client = new XksClient(server.BaseAddress);

        await server.WriteConfigAsync((await File.ReadAllTextAsync(server.ConfigPath))
            .Replace("fleetSize: 2", "fleetSize: 0", StringComparison.Ordinal)
            .Replace("id: foo", "id: \"bad id\"", StringComparison.Ordinal));
        await Eventually(() => Task.FromResult(server.Logs.Lines.Any(l => l.Contains("ConfigReloadRejected", StringComparison.Ordinal))));

        var rejected = server.Logs.Lines.First(l => l.Contains("ConfigReloadRejected", StringComparison.Ordinal));
        Assert.Contains("health.fleetSize", rejected, StringComparison.Ordinal);
        Assert.Contains("keyStores[0].keys[0].id", rejected, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1, 2, 3])).Status);
    }

    [Fact]
    public async Task CredentialRotation_BothAcceptedWhileRotating_ThenOnlyTheNewOne()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"));
        using var oldClient = new XksClient(server.BaseAddress);
        using var newClient = new XksClient(server.BaseAddress) { AccessKeyId = TestCredentials.SecondAccessKeyId, Secret = TestCredentials.SecondSecret };
        Assert.Equal("AuthenticationFailedException", (await newClient.HealthAsync()).ErrorName);

        // 1. add the new credential: both accepted.
        await server.RewriteConfigAsync(b => b.Credential(TestCredentials.SecondAccessKeyId, TestCredentials.SecondSecret));
        await Eventually(async () => (await newClient.HealthAsync()).Status == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await oldClient.HealthAsync()).Status);

        // 2. drop the old one.
        await server.RewriteConfigAsync(b => b.WithoutDefaultCredential());
        await Eventually(async () => (await oldClient.HealthAsync()).ErrorName == "AuthenticationFailedException");
        Assert.Equal(HttpStatusCode.OK, (await newClient.HealthAsync()).Status);
    }

    [Fact]
    public async Task KeyRotation_NewEncryptsUseTheNewVersion_AndOldCiphertextsStillDecrypt()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"));
        using var client = new XksClient(server.BaseAddress);
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var before = await client.EncryptAsync("foo", plaintext);
        Assert.True(KeyVersionMetadata.TryRead(before.Bytes("ciphertextMetadata"), out var v1));
        Assert.Equal(1, v1);

        // What `xks-proxy keys rotate foo` does, from another process's point of view.
        using (var admin = new SoftwareKeyBackend(new SoftwareBackendOptions { DataDir = server.DataDir }, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System))
        {
            Assert.Equal(2, admin.Rotate("foo"));
        }

        XksResponse after = null!;
        await Eventually(async () =>
        {
            after = await client.EncryptAsync("foo", plaintext);
            return KeyVersionMetadata.TryRead(after.Bytes("ciphertextMetadata"), out var v) && v == 2;
        });

        Assert.Equal(plaintext, (await client.DecryptAsync("foo", before)).Bytes("plaintext"));
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", after)).Bytes("plaintext"));
    }

    [Fact]
    public async Task KeyFileCorruptedWhileServing_ThatKeyIsRefused_OthersKeepWorking()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("good").Key("bad"));
        using var client = new XksClient(server.BaseAddress);
        var encrypted = await client.EncryptAsync("bad", [1, 2, 3]);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);

        var path = Path.Combine(server.DataDir, "keys", "bad.json");
        var text = await File.ReadAllTextAsync(path);
        var at = text.IndexOf("\"wrappedMaterial\": \"", StringComparison.Ordinal) + 30;
        await File.WriteAllTextAsync(path, text[..at] + (text[at] == 'Q' ? 'R' : 'Q') + text[(at + 1)..]);

        await Eventually(async () => (await client.DecryptAsync("bad", encrypted)).ErrorName == "InvalidStateException");
        Assert.Equal("InvalidStateException", (await client.EncryptAsync("bad", [1])).ErrorName);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("good", [1])).Status);
        Assert.Contains(server.Logs.Lines, l => l.Contains("KeyUnusable", StringComparison.Ordinal) && l.Contains("bad", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UsageNarrowedToDecrypt_OldCiphertextsStillDecrypt_NewEncryptsAreRefused()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"));
        using var client = new XksClient(server.BaseAddress);
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var encrypted = await client.EncryptAsync("foo", plaintext);

        await server.RewriteConfigAsync(b => Replace(b, () => b.Key("foo", usage: "[DECRYPT]")));
        await Eventually(async () => (await client.EncryptAsync("foo", plaintext, cdiv: false)).ErrorName == "InvalidKeyUsageException");
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", encrypted)).Bytes("plaintext"));
    }

    private static void Replace(ProxyConfigBuilder builder, Action addKeys)
    {
        builder.ClearKeys();
        addKeys();
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within " + Within);
            await Task.Delay(100);
        }
    }
}
