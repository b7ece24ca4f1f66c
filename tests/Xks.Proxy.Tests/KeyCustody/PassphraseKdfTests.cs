using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Konscious.Security.Cryptography;
using Xks.Contracts.KeyCustody;
using Xunit.Abstractions;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>
/// The passphrase KDF is Argon2id as RFC 9106 defines it (so the wiring of m, t, p, salt, secret and associated data
/// is proven, not assumed), and a passphrase bundle's key is exactly Argon2id(passphrase, header salt, header
/// parameters): anyone with the RFC and the documented layout can open one.
/// </summary>
public sealed class PassphraseKdfTests(ITestOutputHelper output)
{
    [Fact]
    public void Derive_Rfc9106Section5_3Inputs_GivesThePublishedArgon2idTag()
    {
        // RFC 9106 §5.3: Argon2id, version 0x13, m = 32 KiB, t = 3, p = 4, password 32 × 0x01, salt 16 × 0x02,
        // secret 8 × 0x03, associated data 12 × 0x04, tag length 32.
        var tag = new byte[32];

        PassphraseKdf.Derive(
            Filled(0x01, 32), Filled(0x02, 16), memoryKiB: 32, iterations: 3, parallelism: 4, tag,
            secret: Filled(0x03, 8), associatedData: Filled(0x04, 12));

        Assert.Equal(Convert.FromHexString("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"), tag);
    }

    [Fact]
    public void DeriveKey_Passphrase_IsArgon2idOfItsUtf8BytesWithoutSecretOrAssociatedData()
    {
        var salt = Filled(0x02, 16);
        var key = new byte[32];

        PassphraseKdf.DeriveKey("pässphrase of twelve+", salt, Argon2Parameters.Minimum, key);

        using var reference = new Argon2id(Encoding.UTF8.GetBytes("pässphrase of twelve+"))
        {
            Salt = salt, MemorySize = 19456, Iterations = 2, DegreeOfParallelism = 1,
        };
        Assert.Equal(reference.GetBytes(32), key);
    }

    [Fact]
    public void Open_PassphraseBundle_CanBeOpenedFromTheDocumentedFormatAlone()
    {
        const string passphrase = "correct horse battery staple";
        var payload = Encoding.UTF8.GetBytes("the payload");
        var bundle = BackupBundle.Seal(payload, BundleRecipient.ForPassphrase(passphrase, Argon2Parameters.Minimum), "text/plain", DateTimeOffset.UnixEpoch);

        var parts = BundleBytes.Split(bundle);
        var salt = Convert.FromBase64String(JsonDocument.Parse(parts.Header).RootElement.GetProperty("argon2id").GetProperty("salt").GetString()!);
        using var argon2 = new Argon2id(Encoding.UTF8.GetBytes(passphrase)) { Salt = salt, MemorySize = 19456, Iterations = 2, DegreeOfParallelism = 1 };
        using var gcm = new AesGcm(argon2.GetBytes(32), 16);
        var plaintext = new byte[parts.Ciphertext.Length];
        gcm.Decrypt(parts.Nonce, parts.Ciphertext, parts.Tag, plaintext, parts.Aad);

        Assert.Equal(payload, plaintext);
    }

    [Fact]
    public void Seal_AtTheDefaultParameters_RoundTripsAndReportsTheKdfTime()
    {
        const string passphrase = "correct horse battery staple";
        var payload = RandomNumberGenerator.GetBytes(4096);
        var key = new byte[32];

        var kdf = Stopwatch.StartNew();
        PassphraseKdf.DeriveKey(passphrase, Filled(0x02, 16), Argon2Parameters.Default, key);
        kdf.Stop();
        var seal = Stopwatch.StartNew();
        var bundle = BackupBundle.Seal(payload, BundleRecipient.ForPassphrase(passphrase), "application/octet-stream", DateTimeOffset.UnixEpoch);
        seal.Stop();
        var open = Stopwatch.StartNew();
        using var opened = BackupBundle.Open(bundle, BundleOpener.WithPassphrase(passphrase));
        open.Stop();

        output.WriteLine($"Argon2id at the defaults (m = {Argon2Parameters.Default.MemoryKiB} KiB, t = {Argon2Parameters.Default.Iterations}, p = {Argon2Parameters.Default.Parallelism}): " +
            $"KDF {kdf.ElapsedMilliseconds} ms; Seal {seal.ElapsedMilliseconds} ms; Open {open.ElapsedMilliseconds} ms");
        Assert.Equal(payload, opened.Payload);
        Assert.Equal(Argon2Parameters.Default, opened.Info.Argon2);
        Assert.Equal(new Argon2Parameters(65536, 3, 1), Argon2Parameters.Default);
    }

    private static byte[] Filled(byte value, int count) => Enumerable.Repeat(value, count).ToArray();
}
