using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xks.Proxy.Crypto;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>
/// ciphertextMetadata formats against a key whose version material the test knows: Encrypt writes format 2 (a
/// sub-key per salt), and format 1 ciphertexts made under the version key itself still decrypt.
/// </summary>
public sealed class CiphertextMetadataFormatsTests : IAsyncLifetime
{
    private static readonly byte[] Aad = "project=nile"u8.ToArray();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xks-formats-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _masterKey = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _versionKey = RandomNumberGenerator.GetBytes(32);
    private ProxyServer _server = null!;
    private XksClient _client = null!;

    public async Task InitializeAsync()
    {
        var masterKeyFile = Path.Combine(_directory, "master-key", "master.key");
        Directory.CreateDirectory(Path.GetDirectoryName(masterKeyFile)!);
        await File.WriteAllBytesAsync(masterKeyFile, _masterKey);
        _server = await ProxyServer.StartAsync(
            b =>
            {
                b.MasterKeyFile = masterKeyFile;
                b.CreateMissingKeys = false;
                b.ClearKeys().Key("known", versions: [(1, WrappedKeyVersions.Wrap(_masterKey, "known", 1, _versionKey))]);
            },
            directory: _directory);
        _client = new XksClient(_server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Encrypt_Always_WritesFormatTwo_UnderTheSubKeyDerivedForItsSalt()
    {
        var plaintext = RandomNumberGenerator.GetBytes(33);

        var encrypted = await _client.EncryptAsync("known", plaintext, Aad);

        Assert.True(encrypted.Status == HttpStatusCode.OK, encrypted.Body);
        var metadata = encrypted.Bytes("ciphertextMetadata");
        Assert.Equal(20, metadata.Length);
        Assert.Equal("0200000001", Convert.ToHexString(metadata, 0, 5));

        // Derived here independently of the proxy: AES-ECB of 0x01||salt and 0x02||salt under the version key.
        var salt = metadata[5..];
        using var aes = Aes.Create();
        aes.Key = _versionKey;
        var subKey = aes.EncryptEcb([0x01, .. salt, 0x02, .. salt], PaddingMode.None);
        var decrypted = new byte[plaintext.Length];
        using var gcm = new AesGcm(subKey, 16);
        gcm.Decrypt(encrypted.Bytes("initializationVector"), encrypted.Bytes("ciphertext"), encrypted.Bytes("authenticationTag"), decrypted, KmAad(metadata));
        Assert.Equal(plaintext, decrypted);
        Assert.Equal(plaintext, (await _client.DecryptAsync("known", encrypted, Aad)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Decrypt_FormatOneCiphertextMadeWithTheVersionKeyItself_ReturnsThePlaintext()
    {
        var plaintext = RandomNumberGenerator.GetBytes(21);
        var legacy = EncryptTheOldWay(plaintext, Convert.FromHexString("0100000001"));

        var decrypted = await _client.DecryptAsync("known", legacy, Aad);

        Assert.True(decrypted.Status == HttpStatusCode.OK, decrypted.Body);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Decrypt_FormatOneCiphertextRelabelledAsFormatTwo_ReturnsInvalidCiphertext()
    {
        var legacy = EncryptTheOldWay(RandomNumberGenerator.GetBytes(8), Convert.FromHexString("0100000001"));

        var response = await _client.DecryptAsync("known", legacy, Aad,
            b => b["ciphertextMetadata"] = Convert.ToBase64String([.. Convert.FromHexString("0200000001"), .. new byte[15]]));

        Assert.Equal("InvalidCiphertextException", response.ErrorName);
    }

    public static TheoryData<string, int, byte> MetadataChanges => new()
    {
        { "first salt byte", 5, 0x01 },
        { "last salt byte", 19, 0x80 },
        { "version byte", 4, 0x02 },
        { "format byte to 3 (unknown format)", 0, 0x01 },
        { "format byte to 0 (unknown format)", 0, 0x02 },
    };

    [Theory]
    [MemberData(nameof(MetadataChanges))]
    public async Task Decrypt_OneMetadataByteChanged_ReturnsInvalidCiphertext(string change, int index, byte mask)
    {
        var encrypted = await _client.EncryptAsync("known", RandomNumberGenerator.GetBytes(16), Aad);

        var response = await _client.DecryptAsync("known", encrypted, Aad, b =>
        {
            var metadata = Convert.FromBase64String(b["ciphertextMetadata"]!.GetValue<string>());
            metadata[index] ^= mask;
            b["ciphertextMetadata"] = Convert.ToBase64String(metadata);
        });

        Assert.True(response.ErrorName == "InvalidCiphertextException", $"{change}: {response.Body}");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.DoesNotContain("plaintext", response.Body, StringComparison.Ordinal);
    }

    private static byte[] KmAad(byte[] metadata)
    {
        var kmAad = new byte[XksAad.GetLength(Aad.Length, metadata.Length)];
        XksAad.Build(Aad, metadata, kmAad);
        return kmAad;
    }

    /// <summary>What proxies before format 2 returned: AES-GCM under the version key, 5-byte metadata in the AAD.</summary>
    private XksResponse EncryptTheOldWay(byte[] plaintext, byte[] metadata)
    {
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(metadata.AsSpan(1)));
        var (iv, ciphertext, tag) = (RandomNumberGenerator.GetBytes(12), new byte[plaintext.Length], new byte[16]);
        using var gcm = new AesGcm(_versionKey, 16);
        gcm.Encrypt(iv, plaintext, ciphertext, tag, KmAad(metadata));
        var json = new JsonObject
        {
            ["ciphertext"] = Convert.ToBase64String(ciphertext),
            ["initializationVector"] = Convert.ToBase64String(iv),
            ["authenticationTag"] = Convert.ToBase64String(tag),
            ["ciphertextMetadata"] = Convert.ToBase64String(metadata),
        };
        return new XksResponse(HttpStatusCode.OK, json.ToJsonString(), json);
    }
}
