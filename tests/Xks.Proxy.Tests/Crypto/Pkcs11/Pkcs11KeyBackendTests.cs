using System.Net;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Xks.Pkcs11;
using Xks.Proxy.Health;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>
/// The PKCS#11 backend behind the real proxy (Kestrel, in process) on a SoftHSM2 token of each test's own: keys
/// found by label, metadata from the objects' attributes, versions listed or discovered, handles re-found, the IV
/// modes, and health from each token's info.
/// </summary>
public sealed class Pkcs11KeyBackendTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    private static void Admin(Pkcs11TestToken token, Action<Pkcs11KeyAdmin> action) =>
        SoftHsm.Shared.WithSession(token.Label, token.Pin, session =>
        {
            action(new Pkcs11KeyAdmin(session));
            return 0;
        });

    private static async Task<(ProxyServer Server, XksClient Client)> StartAsync(Pkcs11TestToken token, Action<ProxyConfigBuilder> configure)
    {
        var server = await ProxyServer.StartAsync(builder =>
        {
            builder.Pkcs11 = token;
            configure(builder);
        });
        return (server, new XksClient(server.BaseAddress));
    }

    [Fact]
    public async Task GetKeyMetadata_ObjectAttributes_GiveTheUsageAndTheStatus()
    {
        var token = Pkcs11TestToken.Create("attributes");
        Admin(token, admin =>
        {
            admin.EnsureVersion("enc-only", 1, canEncrypt: true, canDecrypt: false);
            admin.EnsureVersion("toggled", 1, canEncrypt: true, canDecrypt: true);
        });
        var (server, client) = await StartAsync(token, b =>
        {
            b.Pkcs11CreateMissingKeys = false;
            b.Key("enc-only").Key("toggled");
        });
        await using var _ = server;
        using var __ = client;

        var encOnly = await client.MetadataAsync("enc-only");
        Assert.Equal("""["ENCRYPT"]""", encOnly.Json!["keyUsage"]!.ToJsonString());
        Assert.Equal("ENABLED", encOnly["keyStatus"]);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("enc-only", [1, 2, 3], cdiv: false)).Status);
        // The configuration allows DECRYPT, the object does not: the token refuses (CKR_KEY_FUNCTION_NOT_PERMITTED).
        Assert.Equal("InvalidKeyUsageException", (await client.EncryptAsync("enc-only", [1, 2, 3], cdiv: true)).ErrorName);
        Assert.Equal("ENABLED", (await client.MetadataAsync("toggled"))["keyStatus"]);

        Admin(token, admin => Assert.Equal(1, admin.SetEnabled("toggled", false)));

        await Eventually.HoldsAsync(async () => (await client.MetadataAsync("toggled"))["keyStatus"] == "DISABLED", Within, "a key whose object allows neither encrypt nor decrypt reads DISABLED");
        Assert.Equal("InvalidStateException", (await client.EncryptAsync("toggled", [1])).ErrorName);
    }

    [Fact]
    public async Task Find_ObjectNotAes256_IsUnusableWithTheProblemLogged()
    {
        var token = Pkcs11TestToken.Create("wrong-type");
        SoftHsm.Shared.WithSession(token.Label, token.Pin, session =>
        {
            var f = session.Factories.ObjectAttributeFactory;
            return session.GenerateKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
            [
                f.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES), f.Create(CKA.CKA_VALUE_LEN, 16UL),
                f.Create(CKA.CKA_TOKEN, true), f.Create(CKA.CKA_PRIVATE, true), f.Create(CKA.CKA_LABEL, "short/v1"),
                f.Create(CKA.CKA_ENCRYPT, true), f.Create(CKA.CKA_DECRYPT, true),
            ]);
        });
        var (server, client) = await StartAsync(token, b => b.Key("short").Key("absent"));
        await using var _ = server;
        using var __ = client;

        Assert.Equal("InvalidStateException", (await client.EncryptAsync("short", [1])).ErrorName);
        Assert.Equal("InvalidStateException", (await client.MetadataAsync("short")).ErrorName);
        Assert.Contains($"Key short is unusable and will be refused: PKCS#11 token '{token.Label}': object 'short/v1' is CKK_AES with 128 bits, not AES-256", server.Logs.AllText, StringComparison.Ordinal);
        // createMissingKeys generated the absent key in the token.
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("absent", [1])).Status);
    }

    [Fact]
    public async Task Versions_ListedInTheConfiguration_AreExactlyTheOnesServed()
    {
        var token = Pkcs11TestToken.Create("listed");
        Admin(token, admin =>
        {
            admin.EnsureVersion("k", 1, true, true);
            admin.EnsureVersion("k", 2, true, true);
        });
        var (server, client) = await StartAsync(token, b =>
        {
            b.Pkcs11CreateMissingKeys = false;
            b.Key("k", versions: [(1, "")]).Key("gap", versions: [(1, "")]);
        });
        await using var _ = server;
        using var __ = client;

        var v1 = await client.EncryptAsync("k", [7, 7, 7]);
        Assert.Equal("format 2, version 1, 20 bytes", v1.MetadataSummary);
        Assert.Equal("KeyNotFoundException", (await client.EncryptAsync("gap", [1])).ErrorName);

        await server.RewriteConfigAsync(b => b.ClearKeys().Key("k", versions: [(1, ""), (2, "")]));

        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("k", [7])).MetadataSummary == "format 2, version 2, 20 bytes", Within, "the listed version 2 encrypts after the reload");
        Assert.Equal([7, 7, 7], (await client.DecryptAsync("k", v1)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Versions_NotListed_AreDiscoveredAndRotateAddsOne()
    {
        var token = Pkcs11TestToken.Create("discovered");
        Admin(token, admin => admin.EnsureVersion("r", 1, true, true));
        var (server, client) = await StartAsync(token, b =>
        {
            b.Pkcs11CreateMissingKeys = false;
            b.Key("r");
        });
        await using var _ = server;
        using var __ = client;
        var v1 = await client.EncryptAsync("r", [5]);
        Assert.Equal("format 2, version 1, 20 bytes", v1.MetadataSummary);

        Assert.Equal(2, server.GetRequiredService<IKeyBackend>().Rotate("r"));

        var v2 = await client.EncryptAsync("r", [6]);
        Assert.Equal("format 2, version 2, 20 bytes", v2.MetadataSummary);
        Assert.Equal([5], (await client.DecryptAsync("r", v1)).Bytes("plaintext"));
        Admin(token, admin => Assert.Equal([1, 2], admin.ListVersions("r").Select(v => v.Version)));
    }

    [Fact]
    public async Task Encrypt_KeyObjectReplacedUnderACachedHandle_IsFoundAgainByLabel()
    {
        var token = Pkcs11TestToken.Create("refind");
        var (server, client) = await StartAsync(token, b => b.Key("foo"));
        await using var _ = server;
        using var __ = client;
        var before = await client.EncryptAsync("foo", [1, 2]);
        Assert.Equal(HttpStatusCode.OK, before.Status);

        Admin(token, admin => Assert.Equal(1, admin.DestroyKey("foo")));
        SoftHsm.Shared.ImportAesKey(token.Label, token.Pin, "foo/v1", RandomNumberGenerator.GetBytes(32));
        // A key scan between the two steps may have seen no foo/v1: wait until one has seen the new object. Scans
        // list objects afresh and leave the token's handle cache alone, so the request below still holds the old handle.
        var backend = server.GetRequiredService<IKeyBackend>();
        await Eventually.HoldsAsync(() => Task.FromResult(backend.Find("foo").Status == KeyLookupStatus.Found), Within, "a scan sees foo/v1 again");

        var after = await client.EncryptAsync("foo", [1, 2]);
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.Equal([1, 2], (await client.DecryptAsync("foo", after)).Bytes("plaintext"));
        // Other material under the same label: the old ciphertext no longer authenticates.
        Assert.Equal("InvalidCiphertextException", (await client.DecryptAsync("foo", before)).ErrorName);
    }

    [Fact]
    public async Task Encrypt_HsmWritesIvOnAnHsmThatWritesNone_IsRefusedAndLoggedClearly()
    {
        var token = Pkcs11TestToken.Create("writes-iv");
        var (server, client) = await StartAsync(token, b =>
        {
            b.Pkcs11Extra = "ivGeneration: HsmWritesIv";
            b.Key("foo");
        });
        await using var _ = server;
        using var __ = client;

        var response = await client.EncryptAsync("foo", [1, 2, 3], cdiv: false);

        Assert.Equal(HttpStatusCode.InternalServerError, response.Status);
        Assert.Equal("InternalException", response.ErrorName);
        Assert.Contains("ivGeneration HsmWritesIv: the HSM returned an all-zero GCM IV (it did not generate one); refusing to return a ciphertext under a zero IV", server.Logs.AllText, StringComparison.Ordinal);
        // SoftHSM2 does encrypt with the zero IV it was given: the deep check refuses it the same way.
        Assert.Equal("UNAVAILABLE", server.GetRequiredService<HealthMonitor>().CheckNow().Members.Single().HealthStatus);
    }

    [Fact]
    public async Task Encrypt_HsmAppendsIvOnAnHsmThatAppendsNone_IsRefused()
    {
        var token = Pkcs11TestToken.Create("appends-iv");
        var (server, client) = await StartAsync(token, b =>
        {
            b.Pkcs11Extra = "ivGeneration: HsmAppendsIv";
            b.Key("foo");
        });
        await using var _ = server;
        using var __ = client;

        var response = await client.EncryptAsync("foo", [1, 2, 3], cdiv: false);

        Assert.Equal(HttpStatusCode.InternalServerError, response.Status);
        Assert.Equal("InternalException", response.ErrorName);
        // SoftHSM2 encrypts with an empty IV and returns ciphertext | tag only: no IV to return, so no ciphertext either.
        Assert.Contains("CKM_AES_GCM encrypt of 3 bytes returned 19 bytes, expected 31 (ivGeneration HsmAppendsIv)", server.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealthStatus_OneToken_ReportsItsLabelModelAndManufacturer()
    {
        var token = Pkcs11TestToken.Create("health");
        var (server, client) = await StartAsync(token, b => b.Key("foo"));
        await using var _ = server;
        using var __ = client;

        var health = await client.HealthAsync();

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("SoftHSM project", health["ekmVendor"]);
        var member = Assert.Single(health.Json!["ekmFleetDetails"]!.AsArray());
        Assert.Equal(token.Label, member!["id"]!.GetValue<string>());
        Assert.Matches(@"^SoftHSM project SoftHSM v2 \(firmware \d+\.\d+, hardware \d+\.\d+, serial [0-9a-f]+\)$", member["model"]!.GetValue<string>());
        Assert.Equal("ACTIVE", member["healthStatus"]!.GetValue<string>());
        Assert.DoesNotContain(token.Pin, server.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_ChangedPkcs11Settings_TakeEffectAfterARestartAndSaySo()
    {
        var token = Pkcs11TestToken.Create("reload");
        var (server, client) = await StartAsync(token, b => b.Key("foo"));
        await using var _ = server;
        using var __ = client;

        await server.RewriteConfigAsync(b => b.Pkcs11Extra = "sessionPool:\n  maxSessions: 2");

        await Eventually.HoldsAsync(() => Task.FromResult(server.Logs.AllText.Contains("Configuration field backend changed; it takes effect after a restart", StringComparison.Ordinal)), Within, "the restart warning");
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);
    }
}
