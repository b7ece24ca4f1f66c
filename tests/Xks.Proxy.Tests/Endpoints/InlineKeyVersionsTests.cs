using System.Net;
using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>
/// The proxy on Kestrel serving keys whose wrapped versions are inline in its config, laid out like a pod (a
/// read-only master key file, <c>createMissingKeys: false</c>): rotation and repair by rewriting the config, live.
/// </summary>
public sealed class InlineKeyVersionsTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xks-inline-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _masterKey = RandomNumberGenerator.GetBytes(32);
    private readonly Dictionary<(string, int), string> _wrapped = [];
    private ProxyServer _server = null!;
    private XksClient _client = null!;

    private string MasterKeyFile => Path.Combine(_directory, "master-key", "master.key");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(MasterKeyFile)!);
        await File.WriteAllBytesAsync(MasterKeyFile, _masterKey);
        _server = await ProxyServer.StartAsync(
            b =>
            {
                b.MasterKeyFile = MasterKeyFile;
                b.CreateMissingKeys = false;
                Keys(b, rotatedVersions: 1, badTampered: true);
            },
            directory: _directory);
        _client = new XksClient(_server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private string Wrapped(string keyId, int version)
    {
        if (!_wrapped.TryGetValue((keyId, version), out var wrapped))
        {
            _wrapped[(keyId, version)] = wrapped = WrappedKeyVersions.Wrap(_masterKey, keyId, version);
        }

        return wrapped;
    }

    private void Keys(ProxyConfigBuilder builder, int rotatedVersions, bool badTampered) => builder
        .ClearKeys()
        .Key("rotated", versions: [.. Enumerable.Range(1, rotatedVersions).Reverse().Select(v => (v, Wrapped("rotated", v)))])
        .Key("good", versions: [(1, Wrapped("good", 1))])
        .Key("bad", versions: [(1, badTampered ? WrappedKeyVersions.Tamper(Wrapped("bad", 1)) : Wrapped("bad", 1))]);

    [Fact]
    public async Task Encrypt_AfterAVersionIsAddedToTheConfig_UsesVersionTwo_AndVersionOneCiphertextsStillDecrypt()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var v1 = await _client.EncryptAsync("rotated", plaintext);
        Assert.Equal(HttpStatusCode.OK, v1.Status);
        Assert.Equal("format 2, version 1, 20 bytes", v1.MetadataSummary);

        await _server.RewriteConfigAsync(b => Keys(b, rotatedVersions: 2, badTampered: true));
        await Eventually.HoldsAsync(
            async () => (await _client.EncryptAsync("rotated", plaintext)).MetadataSummary == "format 2, version 2, 20 bytes",
            TimeSpan.FromSeconds(10),
            "version 2 encrypts");

        var old = await _client.DecryptAsync("rotated", v1);
        Assert.Equal(HttpStatusCode.OK, old.Status);
        Assert.Equal(plaintext, old.Bytes("plaintext"));
        var v2 = await _client.EncryptAsync("rotated", plaintext);
        Assert.Equal(plaintext, (await _client.DecryptAsync("rotated", v2)).Bytes("plaintext"));
        Assert.False(Directory.Exists(_server.DataDir), "inline keys write no key file");
    }

    [Fact]
    public async Task Crypto_TamperedWrappedMaterial_RefusesThatKeyOnly_UntilTheConfigRepairsIt()
    {
        Assert.Equal("InvalidStateException", (await _client.EncryptAsync("bad", [1, 2, 3])).ErrorName);
        Assert.Equal(HttpStatusCode.OK, (await _client.EncryptAsync("good", [1, 2, 3])).Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.EncryptAsync("rotated", [1, 2, 3])).Status);
        Assert.Contains(_server.Logs.Lines, l => l.Contains("[KeyUnusable]", StringComparison.Ordinal) && l.Contains("version 1", StringComparison.Ordinal));
        Assert.DoesNotContain(_server.Logs.Lines, l => _wrapped.Values.Any(w => l.Contains(w, StringComparison.Ordinal)));

        await _server.RewriteConfigAsync(b => Keys(b, rotatedVersions: 1, badTampered: false));
        await Eventually.HoldsAsync(
            async () => (await _client.EncryptAsync("bad", [1, 2, 3])).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10),
            "the repaired key serves");
    }
}
