using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Crypto;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Options;

namespace Xks.Operator.Resources.Tests;

public sealed class KeyMaterialTests : IDisposable
{
    private static readonly DateTimeOffset Created = new(2026, 11, 28, 19, 0, 0, TimeSpan.Zero);
    private static readonly ProxyCredentialModel Credential = new("AAAAAAAAAAAAAAAAAAAAAAAAAA", "PleaseReplaceThisWithSomeSecretOfLength43To64");
    private readonly byte[] _masterKey = RandomNumberGenerator.GetBytes(ProxyLayout.MasterKeyLength);
    private readonly string _root = Directory.CreateTempSubdirectory("xks-material-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Wrap_NewVersion_UnwrapsForExactlyThatMasterKeyKeyIdAndVersion()
    {
        var version = KeyMaterial.Wrap(_masterKey, "team-a-payments-db-2f1c", 3, Created);

        Assert.Equal(3, version.Version);
        Assert.Equal(Created, version.CreatedAt);
        var blob = Convert.FromBase64String(version.WrappedMaterial!);
        Assert.Equal(WrappedKey.Format2Size, blob.Length);
        Assert.Equal(WrappedKey.Format2Marker, blob[0]);
        Assert.Equal([0, 0, 0, KeyMaterial.MasterKeyVersion], blob[1..5]);
        Assert.Equal(WrappedKey.KeyCheckValue(_masterKey), Convert.ToHexStringLower(blob[5..13]));
        Assert.True(KeyMaterial.CanUnwrap(_masterKey, "team-a-payments-db-2f1c", version));
        Assert.False(KeyMaterial.CanUnwrap(RandomNumberGenerator.GetBytes(32), "team-a-payments-db-2f1c", version));
        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "team-a-payments-db-2f1d", version));
        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "team-a-payments-db-2f1c", version with { Version = 2 }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(30)]
    [InlineData(72)]
    public void CanUnwrap_OneByteChanged_IsFalse(int index)
    {
        var version = KeyMaterial.Wrap(_masterKey, "k", 1, Created);
        var bytes = Convert.FromBase64String(version.WrappedMaterial!);
        bytes[index] ^= 0x80;

        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "k", version with { WrappedMaterial = Convert.ToBase64String(bytes) }));
    }

    [Fact]
    public void CanUnwrap_Format1Version_AsOlderSecretsHold_IsTrueForItsMasterKeyKeyIdAndVersionOnly()
    {
        var format1 = new byte[WrappedKey.Format1Size];
        RandomNumberGenerator.Fill(format1.AsSpan(0, WrappedKey.IvSize));
        using (var gcm = new AesGcm(_masterKey, WrappedKey.TagSize))
        {
            gcm.Encrypt(format1.AsSpan(0, 12), RandomNumberGenerator.GetBytes(32), format1.AsSpan(12, 32), format1.AsSpan(44), "xks-proxy:key:k:v2"u8);
        }

        var version = new ProxyKeyVersionModel(2, Convert.ToBase64String(format1), Created);

        Assert.True(KeyMaterial.CanUnwrap(_masterKey, "k", version));
        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "k", version with { Version = 1 }));
        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "j", version));
        Assert.False(KeyMaterial.CanUnwrap(RandomNumberGenerator.GetBytes(32), "k", version));
    }

    [Fact]
    public void CanUnwrap_VersionZero_IsFalse() =>
        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "k", KeyMaterial.Wrap(_masterKey, "k", 1, Created) with { Version = 0 }));

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void CanUnwrap_Malformed_IsFalse(string wrapped) =>
        Assert.False(KeyMaterial.CanUnwrap(_masterKey, "k", new ProxyKeyVersionModel(1, wrapped, Created)));

    [Fact]
    public void Wrap_Twice_GivesDifferentMaterial()
    {
        var first = KeyMaterial.Wrap(_masterKey, "k", 1, Created);
        var second = KeyMaterial.Wrap(_masterKey, "k", 1, Created);

        Assert.NotEqual(first.WrappedMaterial, second.WrappedMaterial);
        Assert.NotEqual(Convert.FromBase64String(first.WrappedMaterial!)[13..], Convert.FromBase64String(second.WrappedMaterial!)[13..]);
    }

    [Fact]
    public void Wrap_BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => KeyMaterial.Wrap(new byte[16], "k", 1, Created));
        Assert.Throws<ArgumentException>(() => KeyMaterial.Wrap(_masterKey, "", 1, Created));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyMaterial.Wrap(_masterKey, "k", 0, Created));
    }

    [Fact]
    public void VersionModel_ToString_HidesTheWrappedMaterial()
    {
        var version = KeyMaterial.Wrap(_masterKey, "k", 1, Created);
        var key = new ProxyKeyModel("k", ["ENCRYPT", "DECRYPT"]) { Versions = [version] };

        Assert.DoesNotContain(version.WrappedMaterial!, version.ToString(), StringComparison.Ordinal);
        Assert.Contains("Version = 1", version.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(version.WrappedMaterial!, key.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The whole path of key material: wrapped by the operator, rendered into the Vault's proxy config, loaded by the
    /// proxy's loader (pod paths under a volume root, as <c>serve --volume-root</c> does) and unwrapped by the proxy's
    /// SoftwareKeyBackend with the same master key.
    /// </summary>
    [Fact]
    public void Wrap_RenderedIntoTheProxyConfig_IsUnwrappedByTheProxysBackend_AndRotationKeepsOldCiphertexts()
    {
        var masterKeyFile = Path.Combine(_root, ProxyLayout.MasterKeyFile.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(masterKeyFile)!);
        File.WriteAllBytes(masterKeyFile, _masterKey);
        var v1 = KeyMaterial.Wrap(_masterKey, "payments-db-2f1c", 1, Created);
        var v2 = KeyMaterial.Wrap(_masterKey, "payments-db-2f1c", 2, Created.AddDays(365));

        var first = Load([v1]);
        using var backend = new SoftwareKeyBackend(first.Options.Backend.Software!, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);
        backend.Apply(first);
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var (iv, ciphertext, tag) = (new byte[12], new byte[32], new byte[16]);
        var key = backend.Find("payments-db-2f1c").Key!;
        var subKey = key.ReserveEncryption(key.CurrentVersion);
        subKey.Encrypt(plaintext, "aad"u8, iv, ciphertext, tag);
        var salt = subKey.Salt.ToArray();
        Assert.Equal(1, key.CurrentVersion);

        backend.Apply(Load([v2, v1]));

        var rotated = backend.Find("payments-db-2f1c");
        Assert.Equal(KeyLookupStatus.Found, rotated.Status);
        Assert.Equal(2, rotated.Key!.CurrentVersion);
        var roundTrip = new byte[32];
        Assert.True(rotated.Key.TryDecrypt(1, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
        Assert.False(Directory.Exists(Path.Combine(_root, ProxyLayout.DataDirectory.TrimStart('/'))), "the proxy wrote no key file");
    }

    [Fact]
    public void Wrap_UnderAnotherMasterKey_MakesOnlyThatKeyUnusableInTheProxy()
    {
        var masterKeyFile = Path.Combine(_root, ProxyLayout.MasterKeyFile.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(masterKeyFile)!);
        File.WriteAllBytes(masterKeyFile, _masterKey);
        var good = new ProxyKeyModel("good", ["ENCRYPT", "DECRYPT"]) { Versions = [KeyMaterial.Wrap(_masterKey, "good", 1, Created)] };
        var foreign = new ProxyKeyModel("foreign", ["ENCRYPT", "DECRYPT"]) { Versions = [KeyMaterial.Wrap(RandomNumberGenerator.GetBytes(32), "foreign", 1, Created)] };
        var configuration = Load(new ProxyKeyStoreModel("s", "/s", [Credential], [good, foreign]));

        using var backend = new SoftwareKeyBackend(configuration.Options.Backend.Software!, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);
        backend.Apply(configuration);

        Assert.Equal(KeyLookupStatus.Found, backend.Find("good").Status);
        Assert.Equal(KeyLookupStatus.Unusable, backend.Find("foreign").Status);
    }

    private ProxyConfiguration Load(IReadOnlyList<ProxyKeyVersionModel> versions) =>
        Load(new ProxyKeyStoreModel("payments", "/payments", [Credential], [new ProxyKeyModel("payments-db-2f1c", ["ENCRYPT", "DECRYPT"]) { Versions = versions }]));

    private ProxyConfiguration Load(ProxyKeyStoreModel store)
    {
        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(ResourceTestSupport.MinimalVault(), [store]));
        var result = ProxyConfigurationLoader.LoadText(yaml, _root, mode: ConfigurationMode.Cluster, overrides: new ConfigurationOverrides { VolumeRoot = _root });
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }
}
