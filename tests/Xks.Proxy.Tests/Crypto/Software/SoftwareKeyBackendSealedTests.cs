using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using Xks.Proxy.Health;
using Xks.Proxy.Metrics;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Software.Tests;

/// <summary>
/// The software backend with <c>sealing</c> (HsmSealed): format-3 versions unsealed through an <see cref="IKeyUnsealer"/>
/// at Apply, no master key, and the sealed state while the HSM cannot be reached — with a fake unsealer (a table of
/// answers) and with the real <see cref="Pkcs11KeyUnsealer"/> on a SoftHSM2 token.
/// </summary>
public sealed class SoftwareKeyBackendSealedTests : IDisposable
{
    private const string Prefix = "vault-a";
    private readonly string _root = Directory.CreateTempSubdirectory("xks-sealed-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string DataDir => Path.Combine(_root, "data");

    private static string Blob(string keyId, int version, int rootVersion = 1) =>
        Convert.ToBase64String(SealedKey.SealWithRoot(RandomNumberGenerator.GetBytes(32), rootVersion, keyId, version, RandomNumberGenerator.GetBytes(32)));

    private static SoftwareSealingOptions SealingOptions(Pkcs11TestToken? token = null) => new()
    {
        RootLabelPrefix = Prefix,
        Library = token?.Library ?? "/unused/libsofthsm2.so",
        Tokens = [new Pkcs11TokenOptions { Label = token?.Label ?? "unused" }],
        Pin = token?.Pin ?? "0000",
    };

    private SoftwareKeyBackend NewBackend(IKeyUnsealer? unsealer, string? masterKeyFile = null, TimeProvider? time = null, Pkcs11TestToken? token = null) =>
        new(new SoftwareBackendOptions { DataDir = DataDir, MasterKeyFile = masterKeyFile, CreateMissingKeys = false, Sealing = SealingOptions(token) },
            NullLogger<SoftwareKeyBackend>.Instance, time ?? TimeProvider.System, unsealer)
        {
            UnsealRetryInterval = time is null ? TimeSpan.Zero : TimeSpan.FromSeconds(5),
        };

    private ProxyConfiguration Config(Action<ProxyConfigBuilder> keys, string? masterKeyFile = null, Pkcs11TestToken? token = null)
    {
        var builder = new ProxyConfigBuilder { MasterKeyFile = masterKeyFile, CreateMissingKeys = false, Sealing = (token ?? Pkcs11TestToken.Create("sealed-config")).SealingYaml(Prefix) };
        keys(builder);
        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, DataDir, Path.Combine(_root, "audit.log")), _root);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }

    /// <summary>A loaded configuration without a token behind it (the fake unsealer answers).</summary>
    private ProxyConfiguration FakeConfig(Action<ProxyConfigBuilder> keys, string? masterKeyFile = null)
    {
        var builder = new ProxyConfigBuilder
        {
            MasterKeyFile = masterKeyFile,
            CreateMissingKeys = false,
            Sealing = $"rootLabelPrefix: {Prefix}\nlibrary: {SoftHsm.FindLibrary()}\ntokens: [{{label: fake}}]\npin: \"0000\"\n",
        };
        keys(builder);
        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, DataDir, Path.Combine(_root, "audit.log")), _root);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }

    private static (byte[] Salt, byte[] Iv, byte[] Ciphertext, byte[] Tag) Encrypt(IBackendKey key, byte[] plaintext)
    {
        var (iv, ciphertext, tag) = (new byte[12], new byte[plaintext.Length], new byte[16]);
        var subKey = key.ReserveEncryption(key.CurrentVersion);
        subKey.Encrypt(plaintext, "aad"u8, iv, ciphertext, tag);
        return (subKey.Salt.ToArray(), iv, ciphertext, tag);
    }

    private static string Status(SoftwareKeyBackend backend) => Assert.Single(backend.CheckHealth()).HealthStatus;

    [Fact]
    public void Apply_SealedVersion_IsUnsealedThroughTheUnsealer_WithoutAMasterKeyOrAnyFile()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        var unsealer = new FakeUnsealer().Answer("a", 1, material);
        using var backend = NewBackend(unsealer);

        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, Blob("a", 1))])));

        var key = backend.Find("a").Key!;
        BackendKeyAssert.VersionKeyIs(key, 1, material);
        Assert.Equal("ACTIVE", Status(backend));
        Assert.False(backend.IsSealed);
        Assert.False(Directory.Exists(DataDir));
        Assert.All(unsealer.Returned, m => Assert.All(m, b => Assert.Equal(0, b)));
    }

    [Fact]
    public void Apply_UnchangedSealedVersions_AreNotUnsealedAgain_AndAChangeUnsealsThem()
    {
        var unsealer = new FakeUnsealer().Answer("a", 1).Answer("a", 2).Answer("b", 1);
        var v1 = Blob("a", 1);
        using var backend = NewBackend(unsealer);
        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, v1)])));
        var first = backend.Find("a").Key;

        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, v1)]).Key("b", versions: [(1, Blob("b", 1))])));
        Assert.Same(first, backend.Find("a").Key);
        Assert.Equal(2, unsealer.Calls);

        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, v1), (2, Blob("a", 2))]).Key("b", versions: [(1, Blob("b", 1))])));
        Assert.NotSame(first, backend.Find("a").Key);
        Assert.Equal(2, backend.Find("a").Key!.CurrentVersion);
    }

    [Theory]
    [InlineData(KeyUnsealFailure.IntegrityFailure)]
    [InlineData(KeyUnsealFailure.RootMissing)]
    [InlineData(KeyUnsealFailure.RootRefused)]
    [InlineData(KeyUnsealFailure.Malformed)]
    public void Apply_BadBlob_MakesOnlyThatKeyUnusable_AndNeverSealsTheProxy(KeyUnsealFailure failure)
    {
        var unsealer = new FakeUnsealer().Answer("good", 1).Fail("bad", 1, failure);
        using var backend = NewBackend(unsealer);

        backend.Apply(FakeConfig(b => b.Key("good", versions: [(1, Blob("good", 1))]).Key("bad", versions: [(1, Blob("bad", 1))])));

        Assert.Equal(KeyLookupStatus.Found, backend.Find("good").Status);
        var bad = backend.Find("bad");
        Assert.Equal(KeyLookupStatus.Unusable, bad.Status);
        Assert.StartsWith($"key 'bad' (versions in the configuration): version 1 cannot be unsealed ({failure}): ", bad.Problem, StringComparison.Ordinal);
        Assert.False(backend.IsSealed);
        Assert.Equal("ACTIVE", Status(backend));
    }

    [Fact]
    public async Task Apply_HsmUnreachable_SealsTheBackend_AndAHealthCheckAfterTheHsmReturnsUnsealsIt()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        var unsealer = new FakeUnsealer().Answer("a", 1, material).Answer("b", 1).Answer("plain", 1);
        unsealer.Unreachable = true;
        using var backend = NewBackend(unsealer);

        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, Blob("a", 1))]).Key("b", versions: [(1, Blob("b", 1))])));

        Assert.True(backend.IsSealed);
        Assert.Equal(1, unsealer.Calls);
        var a = backend.Find("a");
        Assert.Equal(KeyLookupStatus.Unusable, a.Status);
        Assert.Contains("is sealed and the HSM cannot be reached", a.Problem, StringComparison.Ordinal);
        Assert.StartsWith("the proxy is sealed: the HSM cannot be reached to unseal 2 key(s) (a, b): ", backend.SealedProblem, StringComparison.Ordinal);
        Assert.Equal("UNAVAILABLE", Status(backend));
        await backend.PendingUnseal!;
        Assert.True(backend.IsSealed);

        unsealer.Unreachable = false;
        Assert.Equal("UNAVAILABLE", Status(backend));
        await backend.PendingUnseal!;

        Assert.False(backend.IsSealed);
        Assert.Null(backend.SealedProblem);
        Assert.Equal("ACTIVE", Status(backend));
        BackendKeyAssert.VersionKeyIs(backend.Find("a").Key!, 1, material);
        Assert.Equal(KeyLookupStatus.Found, backend.Find("b").Status);
    }

    [Fact]
    public async Task CheckHealth_WhileSealed_RetriesAtMostOncePerInterval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var unsealer = new FakeUnsealer().Answer("a", 1);
        unsealer.Unreachable = true;
        using var backend = NewBackend(unsealer, time: time);
        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, Blob("a", 1))])));
        Assert.Equal(1, unsealer.Calls);

        Assert.Equal("UNAVAILABLE", Status(backend));
        Assert.Null(backend.PendingUnseal);

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("UNAVAILABLE", Status(backend));
        await backend.PendingUnseal!;
        Status(backend);
        Assert.Equal(2, unsealer.Calls);

        time.Advance(TimeSpan.FromSeconds(4));
        Status(backend);
        await backend.PendingUnseal!;
        Assert.Equal(2, unsealer.Calls);

        unsealer.Unreachable = false;
        time.Advance(TimeSpan.FromSeconds(1));
        Status(backend);
        await backend.PendingUnseal!;
        Assert.Equal(3, unsealer.Calls);
        Assert.Equal("ACTIVE", Status(backend));
    }

    [Fact]
    public void HealthMonitor_WhileSealed_CannotServe_AndGetHealthStatusWouldRefuse()
    {
        var unsealer = new FakeUnsealer().Answer("a", 1);
        unsealer.Unreachable = true;
        using var backend = NewBackend(unsealer);
        var configuration = FakeConfig(b => b.Key("a", versions: [(1, Blob("a", 1))]));
        backend.Apply(configuration);
        var monitor = new HealthMonitor(backend, new ProxyConfigurationHolder(configuration), new ProxyMetrics(Prometheus.Metrics.NewCustomRegistry()), TimeProvider.System);

        var snapshot = monitor.CheckNow();

        Assert.False(snapshot.CanServe);
        Assert.Equal("UNAVAILABLE", Assert.Single(snapshot.Members).HealthStatus);
    }

    [Fact]
    public void Apply_WrappedVersionsWithoutAMasterKey_AreUnusable_SayingTheKeysAreSealedByTheHsm()
    {
        var masterKey = RandomNumberGenerator.GetBytes(32);
        using var backend = NewBackend(new FakeUnsealer());

        backend.Apply(FakeConfig(b => b.Key("old", versions: [(1, WrappedKeyVersions.Wrap(masterKey, "old", 1))])));

        var old = backend.Find("old");
        Assert.Equal(KeyLookupStatus.Unusable, old.Status);
        Assert.Equal("key 'old' (versions in the configuration): version 1 is unusable: no master key (the Vault's keys are sealed by the HSM, and this version is wrapped by a master key, format 1 or 2)", old.Problem);
        Assert.False(backend.IsSealed);
        Assert.Equal("ACTIVE", Status(backend));
        Assert.Throws<InvalidOperationException>(() => backend.Rotate("old"));
    }

    [Fact]
    public void Apply_WithAMasterKeyToo_FormatTwoAndThreeVersionsOfOneKeyBothServe()
    {
        var masterKey = RandomNumberGenerator.GetBytes(32);
        var masterKeyFile = Path.Combine(_root, "master.key");
        File.WriteAllBytes(masterKeyFile, masterKey);
        var (m1, m2) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        using var backend = NewBackend(new FakeUnsealer().Answer("a", 2, m2), masterKeyFile);

        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, WrappedKeyVersions.Wrap(masterKey, "a", 1, m1)), (2, Blob("a", 2))]), masterKeyFile));

        var key = backend.Find("a").Key!;
        BackendKeyAssert.VersionKeyIs(key, 1, m1);
        BackendKeyAssert.VersionKeyIs(key, 2, m2);
        Assert.Equal("ACTIVE", Status(backend));
    }

    [Fact]
    public void Apply_SealedVersionWithoutAnUnsealer_IsUnusable()
    {
        using var backend = NewBackend(unsealer: null);

        backend.Apply(FakeConfig(b => b.Key("a", versions: [(1, Blob("a", 1))])));

        Assert.Equal("key 'a' (versions in the configuration): version 1 is sealed by the HSM (format 3) and this backend has no HSM to unseal it (backend.software.sealing is not configured)", backend.Find("a").Problem);
    }

    [Fact]
    public void Constructor_SealingWithCreateMissingKeys_IsRefused() =>
        Assert.Throws<InvalidOperationException>(() => new SoftwareKeyBackend(
            new SoftwareBackendOptions { DataDir = DataDir, CreateMissingKeys = true, Sealing = SealingOptions() },
            NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System, new FakeUnsealer()));

    [Fact]
    public void Pkcs11KeyUnsealer_SealedBySoftHsm_ServesAnEncryptDecryptRoundTrip_WithTheMaterialTheTokenHolds()
    {
        var token = Pkcs11TestToken.Create("sealed-rt");
        var (blob, material) = SoftHsm.Shared.WithSession(token.Label, token.Pin, session =>
        {
            var sealer = new Pkcs11Sealer(session);
            sealer.EnsureRoot(Prefix, 1);
            var sealedBlob = sealer.SealNewKey(Prefix, 1, "orders", 1);
            return (sealedBlob, sealer.Unseal(Prefix, "orders", 1, sealedBlob));
        });
        using var unsealer = new Pkcs11KeyUnsealer(SealingOptions(token), NullLogger<Pkcs11KeyUnsealer>.Instance);
        using var backend = NewBackend(unsealer, token: token);

        backend.Apply(Config(b => b.Key("orders", versions: [(1, Convert.ToBase64String(blob))]), token: token));

        var key = backend.Find("orders").Key!;
        var plaintext = RandomNumberGenerator.GetBytes(40);
        var (salt, iv, ciphertext, tag) = Encrypt(key, plaintext);
        var roundTrip = new byte[40];
        Assert.True(key.TryDecrypt(1, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
        BackendKeyAssert.VersionKeyIs(key, 1, material);
        Assert.Equal("ACTIVE", Status(backend));
    }

    [Fact]
    public void Pkcs11KeyUnsealer_BlobOfAnotherKeyId_IsAnIntegrityFailureOfThatKeyOnly()
    {
        var token = Pkcs11TestToken.Create("sealed-moved");
        var blob = SoftHsm.Shared.WithSession(token.Label, token.Pin, session =>
        {
            var sealer = new Pkcs11Sealer(session);
            sealer.EnsureRoot(Prefix, 1);
            return sealer.SealNewKey(Prefix, 1, "orders", 1);
        });
        using var unsealer = new Pkcs11KeyUnsealer(SealingOptions(token), NullLogger<Pkcs11KeyUnsealer>.Instance);

        var refused = Assert.Throws<KeyUnsealException>(() => unsealer.Unseal("payments", 1, blob));

        Assert.Equal(KeyUnsealFailure.IntegrityFailure, refused.Failure);
        Assert.False(refused.HsmUnreachable);
        Assert.DoesNotContain(token.Pin, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pkcs11KeyUnsealer_TokenRemoved_SealsTheBackend_AndRestoredItServesAgain()
    {
        var token = Pkcs11TestToken.Create("sealed-gone");
        var (v1, v2) = SoftHsm.Shared.WithSession(token.Label, token.Pin, session =>
        {
            var sealer = new Pkcs11Sealer(session);
            sealer.EnsureRoot(Prefix, 1);
            return (sealer.SealNewKey(Prefix, 1, "orders", 1), sealer.SealNewKey(Prefix, 1, "orders", 2));
        });
        using var unsealer = new Pkcs11KeyUnsealer(SealingOptions(token), NullLogger<Pkcs11KeyUnsealer>.Instance);
        using var backend = NewBackend(unsealer, token: token);
        backend.Apply(Config(b => b.Key("orders", versions: [(1, Convert.ToBase64String(v1))]), token: token));
        var plaintext = RandomNumberGenerator.GetBytes(24);
        var (salt, iv, ciphertext, tag) = Encrypt(backend.Find("orders").Key!, plaintext);

        SoftHsm.Shared.RemoveToken(token.Label);
        try
        {
            // Version 2 arrives while the HSM is away: the key cannot be unsealed, the proxy is sealed.
            backend.Apply(Config(b => b.Key("orders", versions: [(1, Convert.ToBase64String(v1)), (2, Convert.ToBase64String(v2))]), token: token));

            Assert.True(backend.IsSealed);
            Assert.Equal(KeyLookupStatus.Unusable, backend.Find("orders").Status);
            Assert.Equal("UNAVAILABLE", Status(backend));
            await backend.PendingUnseal!;
            Assert.Equal("UNAVAILABLE", Status(backend));
            await backend.PendingUnseal!;
        }
        finally
        {
            SoftHsm.Shared.RestoreToken(token.Label);
        }

        await Eventually.HoldsAsync(async () =>
        {
            Status(backend);
            await backend.PendingUnseal!;
            return !backend.IsSealed;
        }, TimeSpan.FromSeconds(10), "the backend unseals once the token is back");

        Assert.Equal("ACTIVE", Status(backend));
        var key = backend.Find("orders").Key!;
        Assert.Equal(2, key.CurrentVersion);
        var roundTrip = new byte[24];
        Assert.True(key.TryDecrypt(1, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
    }

    [Fact]
    public async Task Pkcs11KeyUnsealer_StartedWhileTheTokenIsAway_StartsSealed_AndUnsealsWhenItComes()
    {
        var token = Pkcs11TestToken.Create("sealed-late");
        var blob = SoftHsm.Shared.WithSession(token.Label, token.Pin, session =>
        {
            var sealer = new Pkcs11Sealer(session);
            sealer.EnsureRoot(Prefix, 1);
            return sealer.SealNewKey(Prefix, 1, "orders", 1);
        });
        var configuration = Config(b => b.Key("orders", versions: [(1, Convert.ToBase64String(blob))]), token: token);
        SoftHsm.Shared.RemoveToken(token.Label);
        using var unsealer = new Pkcs11KeyUnsealer(SealingOptions(token), NullLogger<Pkcs11KeyUnsealer>.Instance);
        using var backend = NewBackend(unsealer, token: token);
        try
        {
            backend.Apply(configuration);

            Assert.True(backend.IsSealed);
            Assert.Contains($"has no token '{token.Label}'", backend.SealedProblem, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Pin, backend.SealedProblem, StringComparison.Ordinal);
        }
        finally
        {
            SoftHsm.Shared.RestoreToken(token.Label);
        }

        await Eventually.HoldsAsync(async () =>
        {
            Status(backend);
            await backend.PendingUnseal!;
            return !backend.IsSealed;
        }, TimeSpan.FromSeconds(10), "the backend unseals once the token is there");
        Assert.Equal(KeyLookupStatus.Found, backend.Find("orders").Status);
    }

    /// <summary>An unsealer answering from a table: material, a blob failure, or "HSM unreachable" for every call.</summary>
    private sealed class FakeUnsealer : IKeyUnsealer
    {
        private readonly Dictionary<(string, int), byte[]> _materials = [];
        private readonly Dictionary<(string, int), KeyUnsealFailure> _failures = [];

        public bool Unreachable { get; set; }

        public int Calls { get; private set; }

        /// <summary>Every array handed out (the backend must zero them).</summary>
        public List<byte[]> Returned { get; } = [];

        public FakeUnsealer Answer(string keyId, int version, byte[]? material = null)
        {
            _materials[(keyId, version)] = material ?? RandomNumberGenerator.GetBytes(32);
            return this;
        }

        public FakeUnsealer Fail(string keyId, int version, KeyUnsealFailure failure)
        {
            _failures[(keyId, version)] = failure;
            return this;
        }

        public byte[] Unseal(string keyId, int version, ReadOnlySpan<byte> blob)
        {
            Calls++;
            Assert.True(SealedKey.TryParse(blob, out _, out _));
            if (Unreachable)
            {
                throw new KeyUnsealException(KeyUnsealFailure.HsmUnreachable, "token 'fake': C_OpenSession returned CKR_DEVICE_REMOVED");
            }

            if (_failures.TryGetValue((keyId, version), out var failure))
            {
                throw new KeyUnsealException(failure, $"key '{keyId}' version {version}: {failure}");
            }

            var copy = (byte[])_materials[(keyId, version)].Clone();
            Returned.Add(copy);
            return copy;
        }
    }
}
