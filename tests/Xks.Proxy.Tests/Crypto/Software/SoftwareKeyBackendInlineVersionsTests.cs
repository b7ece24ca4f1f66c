using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Crypto.Software.Tests;

/// <summary>Keys whose wrapped versions come inline with the configuration (what the operator renders): no key file.</summary>
public sealed class SoftwareKeyBackendInlineVersionsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xks-inline-").FullName;
    private readonly byte[] _masterKey = RandomNumberGenerator.GetBytes(32);

    public SoftwareKeyBackendInlineVersionsTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(MasterKeyFile)!);
        File.WriteAllBytes(MasterKeyFile, _masterKey);
    }

    private string MasterKeyFile => Path.Combine(_root, "master-key", "master.key");

    private string DataDir => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SoftwareKeyBackend NewBackend(bool createMissing = false) =>
        new(new SoftwareBackendOptions { DataDir = DataDir, MasterKeyFile = MasterKeyFile, CreateMissingKeys = createMissing }, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);

    private ProxyConfiguration Config(Action<ProxyConfigBuilder> keys, bool createMissing = false)
    {
        var builder = new ProxyConfigBuilder { MasterKeyFile = MasterKeyFile, CreateMissingKeys = createMissing };
        keys(builder);
        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, DataDir, Path.Combine(_root, "audit.log")), _root);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }

    private static (byte[] Salt, byte[] Iv, byte[] Ciphertext, byte[] Tag) Encrypt(IBackendKey key, int version, byte[] plaintext)
    {
        var (iv, ciphertext, tag) = (new byte[12], new byte[plaintext.Length], new byte[16]);
        var subKey = key.ReserveEncryption(version);
        subKey.Encrypt(plaintext, "aad"u8, iv, ciphertext, tag);
        return (subKey.Salt.ToArray(), iv, ciphertext, tag);
    }

    [Fact]
    public void Apply_InlineVersion_UnwrapsTheMaterialWithTheMasterKey_AndWritesNoFile()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "a", 1, material))])));

        var key = backend.Find("a").Key!;
        Assert.Equal(1, key.CurrentVersion);
        var plaintext = RandomNumberGenerator.GetBytes(24);
        var (salt, iv, ciphertext, tag) = Encrypt(key, 1, plaintext);

        // The backend's version key is exactly the wrapped material: the sub-key derived from it for the salt
        // (AES-ECB of 0x01||salt and 0x02||salt) decrypts with plain AES-GCM.
        using var aes = Aes.Create();
        aes.Key = material;
        var subKey = aes.EncryptEcb([0x01, .. salt, 0x02, .. salt], PaddingMode.None);
        var roundTrip = new byte[24];
        using (var gcm = new AesGcm(subKey, 16))
        {
            gcm.Decrypt(iv, ciphertext, tag, roundTrip, "aad"u8);
        }

        Assert.Equal(plaintext, roundTrip);
        Assert.False(Directory.Exists(DataDir));
    }

    [Fact]
    public void Apply_VersionAdded_EncryptsWithTheHighestVersion_AndVersionOneCiphertextsStillDecrypt()
    {
        var v1 = WrappedKeyVersions.Wrap(_masterKey, "a", 1);
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, v1)])));
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var (salt, iv, ciphertext, tag) = Encrypt(backend.Find("a").Key!, 1, plaintext);

        backend.Apply(Config(b => b.Key("a", versions: [(2, WrappedKeyVersions.Wrap(_masterKey, "a", 2)), (1, v1)])));

        var key = backend.Find("a").Key!;
        Assert.Equal(2, key.CurrentVersion);
        var roundTrip = new byte[16];
        Assert.True(key.TryDecrypt(1, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
        Assert.False(key.TryDecrypt(2, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
    }

    [Fact]
    public void Apply_TamperedVersion_MakesThatKeyUnusable_NamingKeyAndVersion_WhileOtherKeysServe()
    {
        var tampered = WrappedKeyVersions.Tamper(WrappedKeyVersions.Wrap(_masterKey, "bad", 2));
        using var backend = NewBackend();
        backend.Apply(Config(b => b
            .Key("good", versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "good", 1))])
            .Key("bad", versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "bad", 1)), (2, tampered)])));

        Assert.Equal(KeyLookupStatus.Found, backend.Find("good").Status);
        var bad = backend.Find("bad");
        Assert.Equal(KeyLookupStatus.Unusable, bad.Status);
        Assert.Contains("key 'bad'", bad.Problem, StringComparison.Ordinal);
        Assert.Contains("version 2", bad.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(tampered, bad.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("another master key")]
    [InlineData("another key id")]
    [InlineData("another version number")]
    public void Apply_MaterialWrappedForSomethingElse_IsUnusable(string wrappedFor)
    {
        var wrapped = wrappedFor switch
        {
            "another master key" => WrappedKeyVersions.Wrap(RandomNumberGenerator.GetBytes(32), "a", 1),
            "another key id" => WrappedKeyVersions.Wrap(_masterKey, "b", 1),
            _ => WrappedKeyVersions.Wrap(_masterKey, "a", 2),
        };
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, wrapped)])));

        Assert.Equal(KeyLookupStatus.Unusable, backend.Find("a").Status);
    }

    [Fact]
    public void Apply_UnchangedVersions_ReusesTheUnwrappedKey_AndAChangeReplacesIt()
    {
        var v1 = WrappedKeyVersions.Wrap(_masterKey, "a", 1);
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, v1)])));
        var first = backend.Find("a").Key;

        // A new document (another key disabled, say) with the same versions for "a": not unwrapped again.
        backend.Apply(Config(b => b.Key("a", versions: [(1, v1)]).Key("b", enabled: false, versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "b", 1))])));
        Assert.Same(first, backend.Find("a").Key);

        backend.Apply(Config(b => b.Key("a", versions: [(1, v1), (2, WrappedKeyVersions.Wrap(_masterKey, "a", 2))])));
        Assert.NotSame(first, backend.Find("a").Key);
    }

    [Fact]
    public void Apply_InlineAndFileKeysTogether_FileKeysKeepTheirFiles_InlineKeysGetNone()
    {
        using var backend = NewBackend(createMissing: true);
        backend.Apply(Config(b => b.Key("file").Key("inline", versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "inline", 1))]), createMissing: true));

        Assert.Equal(KeyLookupStatus.Found, backend.Find("file").Status);
        Assert.Equal(KeyLookupStatus.Found, backend.Find("inline").Status);
        Assert.True(File.Exists(Path.Combine(DataDir, "keys", "file.json")));
        Assert.False(File.Exists(Path.Combine(DataDir, "keys", "inline.json")));
    }

    [Fact]
    public void ListInlineKeys_ReportsVersionsAndProblems_WithoutTouchingTheDataDirectory()
    {
        using var backend = NewBackend();
        var config = Config(b => b
            .Key("a", versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "a", 1)), (3, WrappedKeyVersions.Wrap(_masterKey, "a", 3))])
            .Key("b", versions: [(1, WrappedKeyVersions.Tamper(WrappedKeyVersions.Wrap(_masterKey, "b", 1)))])
            .Key("c"));

        var listed = backend.ListInlineKeys(config).ToList();

        Assert.Equal(["a", "b"], listed.Select(k => k.Id));
        Assert.Equal([1, 3], listed[0].Versions);
        Assert.Null(listed[0].Problem);
        Assert.Contains("version 1", listed[1].Problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(DataDir));
    }

    [Fact]
    public void Apply_InlineVersionsInFormat1And2_UnwrapToTheirMaterial()
    {
        var (m1, m2) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, WrappedKeyVersions.WrapFormat1(_masterKey, "a", 1, m1)), (2, WrappedKeyVersions.Wrap(_masterKey, "a", 2, m2))])));

        var key = backend.Find("a").Key!;
        Assert.Equal(2, key.CurrentVersion);
        BackendKeyAssert.VersionKeyIs(key, 1, m1);
        BackendKeyAssert.VersionKeyIs(key, 2, m2);
    }

    [Theory]
    [InlineData("another master key claiming version 1", "key 'a' (versions in the configuration): version 1 was wrapped under another master key that also claims version 1 (key-check value ")]
    [InlineData("master key version 2", "key 'a' (versions in the configuration): version 1 is wrapped under master key version 2, which is not in the ring (it holds version 1)")]
    [InlineData("a flipped wrapped key", "key 'a' (versions in the configuration): version 1 fails its integrity check under master key version 1 (corrupted, tampered, or moved from another key id or version)")]
    [InlineData("format 1 under another master key", "key 'a' (versions in the configuration): version 1 fails its integrity check under master key version 1 (corrupted, tampered, moved from another key id or version, or wrapped by another master key: format 1 carries no key-check value)")]
    public void Apply_UnusableInlineVersion_SaysWhichWayItFails(string wrappedUnder, string problemStart)
    {
        var other = RandomNumberGenerator.GetBytes(32);
        var wrapped = wrappedUnder switch
        {
            "another master key claiming version 1" => WrappedKeyVersions.Wrap(other, "a", 1),
            "master key version 2" => WrappedKeyVersions.Wrap(other, "a", 1, rootVersion: 2),
            "a flipped wrapped key" => WrappedKeyVersions.Tamper(WrappedKeyVersions.Wrap(_masterKey, "a", 1)),
            _ => WrappedKeyVersions.WrapFormat1(other, "a", 1),
        };
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, wrapped)])));

        var found = backend.Find("a");

        Assert.Equal(KeyLookupStatus.Unusable, found.Status);
        Assert.StartsWith(problemStart, found.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(wrapped, found.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_VersionFromAnotherMasterKey_NamesBothKeyCheckValues()
    {
        var other = RandomNumberGenerator.GetBytes(32);
        using var backend = NewBackend();
        backend.Apply(Config(b => b.Key("a", versions: [(1, WrappedKeyVersions.Wrap(other, "a", 1))])));

        Assert.Equal(
            "key 'a' (versions in the configuration): version 1 was wrapped under another master key that also claims version 1 "
                + $"(key-check value {Hex(WrappedKeyVersions.KeyCheckValue(other))}; this ring's master key version 1 has {Hex(WrappedKeyVersions.KeyCheckValue(_masterKey))})",
            backend.Find("a").Problem);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
