using System.Net;
using System.Security.Cryptography;
using Xks.Pkcs11;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>
/// The proxy on Kestrel in the HsmSealed layout: no master key, <c>createMissingKeys: false</c>, key versions sealed
/// by a root key in a SoftHSM2 token (<c>backend.software.sealing</c>) and unsealed at start.
/// </summary>
public sealed class SealedKeyVersionsTests : IAsyncLifetime
{
    private const string Prefix = "vault-e2e";
    private readonly Pkcs11TestToken _token = Pkcs11TestToken.Create("sealed-e2e");
    private ProxyServer _server = null!;
    private XksClient _client = null!;

    public async Task InitializeAsync()
    {
        var (v1, v2) = SoftHsm.Shared.WithSession(_token.Label, _token.Pin, session =>
        {
            var sealer = new Pkcs11Sealer(session);
            sealer.EnsureRoot(Prefix, 1);
            return (sealer.SealNewKey(Prefix, 1, "orders", 1), sealer.SealNewKey(Prefix, 1, "tampered", 1));
        });
        v2[^1] ^= 0x01;
        _server = await ProxyServer.StartAsync(b =>
        {
            b.CreateMissingKeys = false;
            b.Sealing = _token.SealingYaml(Prefix);
            b.Key("orders", versions: [(1, Convert.ToBase64String(v1))]);
            b.Key("tampered", versions: [(1, Convert.ToBase64String(v2))]);
        });
        _client = new XksClient(_server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task EncryptDecrypt_KeySealedByTheHsm_RoundTrips_AndHealthIsActive()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);

        var encrypted = await _client.EncryptAsync("orders", plaintext);
        var decrypted = await _client.DecryptAsync("orders", encrypted);
        var health = await _client.HealthAsync();
        using var http = new HttpClient();
        var ready = await http.GetAsync(new Uri(_server.BaseAddress, "/readyz"));

        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("ACTIVE", health.Json!["ekmFleetDetails"]![0]!["healthStatus"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.False(Directory.Exists(_server.DataDir), "no master key and no key file are written");
    }

    [Fact]
    public async Task Encrypt_TamperedSealedVersion_IsRefusedForThatKeyOnly_AndTheLogsNameNoPinOrBlob()
    {
        var refused = await _client.EncryptAsync("tampered", RandomNumberGenerator.GetBytes(16));
        var served = await _client.EncryptAsync("orders", RandomNumberGenerator.GetBytes(16));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("InvalidStateException", refused["errorName"]);
        Assert.Equal(HttpStatusCode.OK, served.Status);
        var logs = _server.Logs.AllText;
        Assert.Contains("Key orders version 1 unsealed by the HSM (root version 1)", logs, StringComparison.Ordinal);
        Assert.Contains("version 1 cannot be unsealed (IntegrityFailure)", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_token.Pin, logs, StringComparison.Ordinal);
    }
}
