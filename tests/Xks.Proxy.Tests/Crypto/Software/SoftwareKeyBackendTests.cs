using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Crypto.Software.Tests;

public sealed class SoftwareKeyBackendTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "xks-backend-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        foreach (var directory in new[] { _dataDir, _dataDir + "-mk" }.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private SoftwareKeyBackend NewBackend(bool createMissing = true, string? masterKeyFile = null) =>
        new(new SoftwareBackendOptions { DataDir = _dataDir, CreateMissingKeys = createMissing, MasterKeyFile = masterKeyFile }, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);

    /// <summary>A master key outside the data directory, as a mounted Secret provides it (read-only).</summary>
    private string WriteMasterKeyFile(byte[]? content = null)
    {
        var directory = _dataDir + "-mk";
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "master.key");
        File.WriteAllBytes(path, content ?? RandomNumberGenerator.GetBytes(32));
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        return path;
    }

    /// <summary>Every file and folder under a directory with its size, time and content hash.</summary>
    private static string TreeSnapshot(string directory) => string.Join('\n', Directory
        .EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal)
        .Select(p => File.Exists(p)
            ? $"{p} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}"
            : $"{p}/"));

    private static ProxyConfiguration Config(params string[] keyIds)
    {
        var builder = new ProxyConfigBuilder();
        foreach (var id in keyIds)
        {
            builder.Key(id);
        }

        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, "/tmp/unused", "/tmp/unused.log"), "/tmp");
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }

    [Fact]
    public void Apply_NewKeys_CreatesThemWithPrivateFileModes()
    {
        using var backend = NewBackend();
        backend.Apply(Config("a", "b"));

        Assert.Equal(KeyLookupStatus.Found, backend.Find("a").Status);
        Assert.Equal(1, backend.Find("b").Key!.CurrentVersion);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dataDir, "master.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dataDir, "keys", "a.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dataDir));
    }

    [Fact]
    public void Apply_AfterRestart_KeepsTheSameKeyMaterial()
    {
        var plaintext = RandomNumberGenerator.GetBytes(40);
        var (iv, ciphertext, tag) = (new byte[12], new byte[40], new byte[16]);
        byte[] salt;
        using (var first = NewBackend())
        {
            first.Apply(Config("a"));
            var subKey = first.Find("a").Key!.ReserveEncryption(1);
            subKey.Encrypt(plaintext, "aad"u8, iv, ciphertext, tag);
            salt = subKey.Salt.ToArray();
        }

        using var second = NewBackend();
        second.Apply(Config("a"));
        var roundTrip = new byte[40];
        Assert.True(second.Find("a").Key!.TryDecrypt(1, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
    }

    [Fact]
    public void Rotate_Key_AddsAVersionAndOldCiphertextsStillDecrypt()
    {
        using var backend = NewBackend();
        backend.Apply(Config("a"));
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var (iv, ciphertext, tag) = (new byte[12], new byte[16], new byte[16]);
        var subKey = backend.Find("a").Key!.ReserveEncryption(1);
        subKey.Encrypt(plaintext, [], iv, ciphertext, tag);
        var salt = subKey.Salt.ToArray();

        Assert.Equal(2, backend.Rotate("a"));
        backend.Apply(Config("a"));

        var key = backend.Find("a").Key!;
        Assert.Equal(2, key.CurrentVersion);
        Assert.True(key.HasVersion(1));
        var roundTrip = new byte[16];
        Assert.True(key.TryDecrypt(1, salt, ciphertext, iv, tag, [], roundTrip));
        Assert.False(key.TryDecrypt(2, salt, ciphertext, iv, tag, [], roundTrip));
    }

    [Fact]
    public void Apply_CorruptedKeyFile_RefusesThatKeyOnlyAndNeverOverwritesIt()
    {
        using (var backend = NewBackend())
        {
            backend.Apply(Config("good", "bad"));
        }

        var badPath = Path.Combine(_dataDir, "keys", "bad.json");
        // Flip one bit of the wrapped key itself (editing the file's text could land inside a JSON escape such as
        // \u002B and make the file unparsable instead, which is another failure than the one named here).
        var file = JsonNode.Parse(File.ReadAllText(badPath))!;
        var version = file["versions"]![0]!;
        var wrapped = Convert.FromBase64String(version["wrappedMaterial"]!.GetValue<string>());
        wrapped[20] ^= 0x01;
        version["wrappedMaterial"] = Convert.ToBase64String(wrapped);
        var corrupted = file.ToJsonString();
        File.WriteAllText(badPath, corrupted);

        using var restarted = NewBackend();
        restarted.Apply(Config("good", "bad"));

        Assert.Equal(KeyLookupStatus.Found, restarted.Find("good").Status);
        var bad = restarted.Find("bad");
        Assert.Equal(KeyLookupStatus.Unusable, bad.Status);
        Assert.Contains("integrity check", bad.Problem, StringComparison.Ordinal);
        Assert.Equal(corrupted, File.ReadAllText(badPath));
    }

    [Fact]
    public void Apply_KeyFileThatIsNotJson_IsUnusableWithAClearReason()
    {
        using (var backend = NewBackend())
        {
            backend.Apply(Config("a"));
        }

        File.WriteAllText(Path.Combine(_dataDir, "keys", "a.json"), "{ truncated");
        using var restarted = NewBackend();
        restarted.Apply(Config("a"));
        Assert.Contains("not valid JSON", restarted.Find("a").Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_MasterKeyMissingWhileKeysExist_RefusesToStart()
    {
        using (var backend = NewBackend())
        {
            backend.Apply(Config("a"));
        }

        File.Delete(Path.Combine(_dataDir, "master.key"));
        var ex = Assert.Throws<InvalidOperationException>(() => NewBackend());
        Assert.Contains("refusing to create a new master key", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dataDir, "master.key")));
    }

    [Fact]
    public void Apply_KeyRemovedFromConfig_KeepsItsFile()
    {
        using var backend = NewBackend();
        backend.Apply(Config("a", "b"));
        backend.Apply(Config("a"));
        Assert.Equal(KeyLookupStatus.Missing, backend.Find("b").Status);
        Assert.True(File.Exists(Path.Combine(_dataDir, "keys", "b.json")));
    }

    [Fact]
    public void Apply_CreateMissingKeysOff_ReportsTheKeyMissing()
    {
        using var backend = NewBackend(createMissing: false);
        backend.Apply(Config("a"));
        Assert.Equal(KeyLookupStatus.Missing, backend.Find("a").Status);
        Assert.False(File.Exists(Path.Combine(_dataDir, "keys", "a.json")));
    }

    [Fact]
    public void Constructor_MasterKeyFile_IsUsedAndNeverWritten()
    {
        var masterKeyFile = WriteMasterKeyFile();
        var before = File.ReadAllBytes(masterKeyFile);
        var modified = File.GetLastWriteTimeUtc(masterKeyFile);
        using (var backend = NewBackend(masterKeyFile: masterKeyFile))
        {
            backend.Apply(Config("a"));
            Assert.Equal(KeyLookupStatus.Found, backend.Find("a").Status);
        }

        Assert.False(File.Exists(Path.Combine(_dataDir, "master.key")));
        Assert.Equal(before, File.ReadAllBytes(masterKeyFile));
        Assert.Equal(modified, File.GetLastWriteTimeUtc(masterKeyFile));

        // The key files are wrapped by that master key: a data directory's own master key cannot open them.
        File.WriteAllBytes(Path.Combine(_dataDir, "master.key"), RandomNumberGenerator.GetBytes(32));
        using var other = NewBackend();
        other.Apply(Config("a"));
        Assert.Equal(KeyLookupStatus.Unusable, other.Find("a").Status);
    }

    [Fact]
    public void Constructor_MasterKeyFileMissing_RefusesToStartAndCreatesNothing()
    {
        var missing = Path.Combine(_dataDir + "-mk", "master.key");
        var ex = Assert.Throws<InvalidOperationException>(() => NewBackend(createMissing: false, masterKeyFile: missing));
        Assert.Contains("never creates it", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(missing));
        Assert.False(Directory.Exists(_dataDir));
    }

    [Fact]
    public void Constructor_MasterKeyFileOfTheWrongLength_RefusesToStart()
    {
        var masterKeyFile = WriteMasterKeyFile(RandomNumberGenerator.GetBytes(31));
        var ex = Assert.Throws<InvalidOperationException>(() => NewBackend(masterKeyFile: masterKeyFile));
        Assert.Contains("exactly 32 bytes (it is 31)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_ClusterLayout_ServesTheKeysItFinds_AndWritesNothing()
    {
        var masterKeyFile = WriteMasterKeyFile();
        using (var provider = NewBackend(masterKeyFile: masterKeyFile))
        {
            // What the operator will do: write wrapped key material under the master key.
            provider.Apply(Config("a"));
        }

        var snapshot = TreeSnapshot(_dataDir);
        using var backend = NewBackend(createMissing: false, masterKeyFile: masterKeyFile);
        backend.Apply(Config("a", "b"));

        Assert.Equal(KeyLookupStatus.Found, backend.Find("a").Status);
        Assert.Equal(KeyLookupStatus.Missing, backend.Find("b").Status);
        Assert.Equal("ACTIVE", Assert.Single(backend.CheckHealth()).HealthStatus);
        Assert.Equal(snapshot, TreeSnapshot(_dataDir));
    }

    [Fact]
    public void Apply_ClusterLayoutWithoutADataDirectory_CreatesNoFolderAndStaysHealthy()
    {
        var masterKeyFile = WriteMasterKeyFile();
        using var backend = NewBackend(createMissing: false, masterKeyFile: masterKeyFile);
        backend.Apply(Config("a"));

        Assert.Equal(KeyLookupStatus.Missing, backend.Find("a").Status);
        Assert.Equal("ACTIVE", Assert.Single(backend.CheckHealth()).HealthStatus);
        Assert.False(Directory.Exists(_dataDir));
        Assert.Empty(backend.ListKeyFiles());

        File.Delete(masterKeyFile);
        Assert.Equal("UNAVAILABLE", Assert.Single(backend.CheckHealth()).HealthStatus);
    }

    [Fact]
    public void CheckHealth_WorkingStore_IsActive_AndUnavailableWhenTheMasterKeyIsGone()
    {
        using var backend = NewBackend();
        backend.Apply(Config("a"));
        Assert.Equal("ACTIVE", Assert.Single(backend.CheckHealth()).HealthStatus);

        File.Delete(Path.Combine(_dataDir, "master.key"));
        Assert.Equal("UNAVAILABLE", Assert.Single(backend.CheckHealth()).HealthStatus);
    }

    [Fact]
    public void TryDecrypt_WrongAad_Fails()
    {
        using var backend = NewBackend();
        backend.Apply(Config("a"));
        var key = backend.Find("a").Key!;
        var (iv, ciphertext, tag, plaintext) = (new byte[12], new byte[8], new byte[16], new byte[8]);
        var subKey = key.ReserveEncryption(1);
        subKey.Encrypt(new byte[8], "one"u8, iv, ciphertext, tag);
        Assert.True(key.TryDecrypt(1, subKey.Salt, ciphertext, iv, tag, "one"u8, plaintext));
        Assert.False(key.TryDecrypt(1, subKey.Salt, ciphertext, iv, tag, "two"u8, plaintext));
    }

    [Fact]
    public void SetEnabled_False_NextApplyFindsTheKeyDisabled_AndTrueEnablesItWithTheSameMaterial()
    {
        using var backend = NewBackend();
        backend.Apply(Config("a", "b"));
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var (iv, ciphertext, tag, roundTrip) = (new byte[12], new byte[16], new byte[16], new byte[16]);
        var subKey = backend.Find("a").Key!.ReserveEncryption(1);
        subKey.Encrypt(plaintext, "aad"u8, iv, ciphertext, tag);
        var salt = subKey.Salt.ToArray();

        Assert.True(backend.SetEnabled("a", enabled: false));
        backend.Apply(Config("a", "b"));
        var disabled = backend.Find("a");
        Assert.Equal(KeyLookupStatus.Found, disabled.Status);
        Assert.False(disabled.Key!.Enabled);
        Assert.True(backend.Find("b").Key!.Enabled);

        Assert.False(backend.SetEnabled("a", enabled: false));
        Assert.True(backend.SetEnabled("a", enabled: true));
        backend.Apply(Config("a", "b"));
        var enabled = backend.Find("a").Key!;
        Assert.True(enabled.Enabled);
        Assert.True(enabled.TryDecrypt(1, salt, ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
    }

    [Fact]
    public void Apply_KeyFileWithoutAnEnabledField_IsEnabled()
    {
        using (var first = NewBackend())
        {
            first.Apply(Config("a"));
        }

        var path = Path.Combine(_dataDir, "keys", "a.json");
        var file = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(file.Remove("enabled"));
        File.WriteAllText(path, file.ToJsonString());

        using var second = NewBackend();
        second.Apply(Config("a"));
        Assert.True(second.Find("a").Key!.Enabled);
    }

    [Fact]
    public void Create_ExistingKey_IsRefusedAndKeepsItsMaterial()
    {
        using var backend = NewBackend(createMissing: false);
        backend.Create("a");
        var path = Path.Combine(_dataDir, "keys", "a.json");
        var before = File.ReadAllBytes(path);

        var refused = Assert.Throws<InvalidOperationException>(() => backend.Create("a"));

        Assert.Contains("already exists", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        backend.Apply(Config("a"));
        Assert.Equal(1, backend.Find("a").Key!.CurrentVersion);
    }

    [Fact]
    public void Create_NewKey_WritesFormat2UnderMasterKeyVersion1_WithItsKeyCheckValue()
    {
        using var backend = NewBackend(createMissing: false);
        backend.Create("a");

        var blob = Convert.FromBase64String(ReadVersions("a")[0]!["wrappedMaterial"]!.GetValue<string>());
        var masterKey = File.ReadAllBytes(Path.Combine(_dataDir, "master.key"));
        Assert.Equal(73, blob.Length);
        Assert.Equal(0x02, blob[0]);
        Assert.Equal([0, 0, 0, 1], blob[1..5]);
        Assert.Equal(WrappedKeyVersions.KeyCheckValue(masterKey), blob[5..13]);
    }

    [Fact]
    public void Apply_KeyFileInFormat1_StillServes_AndRotateAddsAFormat2Version()
    {
        Directory.CreateDirectory(Path.Combine(_dataDir, "keys"));
        var masterKey = RandomNumberGenerator.GetBytes(32);
        File.WriteAllBytes(Path.Combine(_dataDir, "master.key"), masterKey);
        var material = RandomNumberGenerator.GetBytes(32);
        var format1 = WrappedKeyVersions.WrapFormat1(masterKey, "a", 1, material);
        File.WriteAllText(KeyFile("a"), $$"""{"id":"a","versions":[{"version":1,"createdAt":"2025-01-01T00:00:00Z","wrappedMaterial":"{{format1}}"}]}""");

        using var backend = NewBackend();
        backend.Apply(Config("a"));
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var (iv, ciphertext, tag) = (RandomNumberGenerator.GetBytes(12), new byte[16], new byte[16]);
        using (var gcm = new AesGcm(material, 16))
        {
            gcm.Encrypt(iv, plaintext, ciphertext, tag, "aad"u8);
        }

        var roundTrip = new byte[16];
        Assert.True(backend.Find("a").Key!.TryDecrypt(1, [], ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);

        Assert.Equal(2, backend.Rotate("a"));
        backend.Apply(Config("a"));

        var versions = ReadVersions("a");
        Assert.Equal(format1, versions[0]!["wrappedMaterial"]!.GetValue<string>());
        Assert.Equal(73, Convert.FromBase64String(versions[1]!["wrappedMaterial"]!.GetValue<string>()).Length);
        Assert.Equal(2, backend.Find("a").Key!.CurrentVersion);
        Assert.True(backend.Find("a").Key!.TryDecrypt(1, [], ciphertext, iv, tag, "aad"u8, roundTrip));
    }

    [Fact]
    public void Apply_KeyFileWrappedByAnotherMasterKey_SaysTheKeyCheckValueDiffers()
    {
        var masterKeyFile = WriteMasterKeyFile();
        using (var writer = NewBackend(masterKeyFile: masterKeyFile))
        {
            writer.Apply(Config("a"));
        }

        var dataDirMasterKey = RandomNumberGenerator.GetBytes(32);
        File.WriteAllBytes(Path.Combine(_dataDir, "master.key"), dataDirMasterKey);
        using var other = NewBackend();
        other.Apply(Config("a"));

        var found = other.Find("a");
        Assert.Equal(KeyLookupStatus.Unusable, found.Status);
        Assert.Equal(
            $"key file '{KeyFile("a")}': version 1 was wrapped under another master key that also claims version 1 "
                + $"(key-check value {Convert.ToHexStringLower(WrappedKeyVersions.KeyCheckValue(File.ReadAllBytes(masterKeyFile)))}; "
                + $"this ring's master key version 1 has {Convert.ToHexStringLower(WrappedKeyVersions.KeyCheckValue(dataDirMasterKey))})",
            found.Problem);
    }

    private string KeyFile(string keyId) => Path.Combine(_dataDir, "keys", keyId + ".json");

    private JsonArray ReadVersions(string keyId) => JsonNode.Parse(File.ReadAllText(KeyFile(keyId)))!["versions"]!.AsArray();
}
