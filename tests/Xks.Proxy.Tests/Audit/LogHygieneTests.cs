using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Audit.Tests;

public sealed class LogHygieneTests
{
    [Fact]
    public async Task FullRunAtTraceLevel_LogsAndAuditNeverHoldPlaintextAadKeysOrSecrets()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo").Key("enc", usage: "[ENCRYPT]").Key("off", enabled: false));
        using var client = new XksClient(server.BaseAddress);
        var plaintext = Encoding.UTF8.GetBytes("PLAINTEXT-MARKER-7f3a9c");
        var aad = Encoding.UTF8.GetBytes("AAD-MARKER-c0ffee");

        // Successes and every kind of failure, so every log path runs.
        var encrypted = await client.EncryptAsync("foo", plaintext, aad, metadata: XksClient.Metadata("Encrypt", requestId: "hygiene-1"));
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", encrypted, aad)).Bytes("plaintext"));
        await client.DecryptAsync("foo", encrypted, Encoding.UTF8.GetBytes("AAD-MARKER-wrong"));
        await client.EncryptAsync("enc", plaintext, aad);
        await client.EncryptAsync("off", plaintext, aad);
        await client.EncryptAsync("missing", plaintext, aad);
        await client.PostAsync("keys/foo/encrypt", new JsonObject { ["plaintext"] = Convert.ToBase64String(plaintext) });
        await client.HealthAsync();
        client.Secret = TestCredentials.SecondSecret;
        await client.EncryptAsync("foo", plaintext, aad);

        var audit = await server.WaitForAuditAsync("hygiene-1");
        await server.WaitForAuditAsync("\"outcome\":\"AuthenticationFailedException\"");
        var everything = server.Logs.AllText + "\n" + string.Join('\n', await File.ReadAllLinesAsync(server.AuditFile));
        Assert.Contains("hygiene-1", everything, StringComparison.Ordinal);

        var masterKey = await File.ReadAllBytesAsync(Path.Combine(server.DataDir, "master.key"));
        var forbidden = new Dictionary<string, string>
        {
            ["plaintext"] = "PLAINTEXT-MARKER",
            ["plaintext (Base64)"] = Convert.ToBase64String(plaintext)[..20],
            ["plaintext (hex)"] = Convert.ToHexString(plaintext)[..20],
            ["AAD"] = "AAD-MARKER",
            ["AAD (Base64)"] = Convert.ToBase64String(aad)[..16],
            ["secret"] = TestCredentials.Secret,
            ["second secret"] = TestCredentials.SecondSecret,
            ["master key (Base64)"] = Convert.ToBase64String(masterKey)[..20],
            ["master key (hex)"] = Convert.ToHexString(masterKey)[..20],
            ["ciphertext"] = encrypted["ciphertext"]![..16],
        };
        foreach (var (what, value) in forbidden)
        {
            Assert.False(everything.Contains(value, StringComparison.OrdinalIgnoreCase), $"the logs contain the {what}");
        }
    }
}
