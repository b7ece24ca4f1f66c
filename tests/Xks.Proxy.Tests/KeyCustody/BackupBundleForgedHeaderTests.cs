using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>
/// Headers written by someone other than Seal: parameters that would weaken the KDF or exhaust the opener are refused
/// before the KDF runs and before anything is allocated, and a header in any but the canonical form is malformed.
/// </summary>
public sealed class BackupBundleForgedHeaderTests
{
    private const string Passphrase = "correct horse battery staple";
    private static readonly DateTimeOffset CreatedAt = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("vault nile backup");
    private static readonly Lazy<byte[]> PassphraseBundle = new(() =>
        BackupBundle.Seal(Payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), "application/octet-stream", CreatedAt));

    private static readonly Lazy<(byte[] Bundle, BundleRecipientKeyPair Keys)> KeyBundle = new(() =>
    {
        var keys = BundleRecipientKeyPair.Generate();
        return (BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), "application/octet-stream", CreatedAt), keys);
    });

    public static TheoryData<string, string> WeakParameters => new()
    {
        { "memory below 19 MiB", "\"memoryKiB\":19455" },
        { "memory of 8 MiB", "\"memoryKiB\":8192" },
        { "memory of zero", "\"memoryKiB\":0" },
        { "negative memory", "\"memoryKiB\":-1" },
    };

    public static TheoryData<string, string, string> WeakCounts => new()
    {
        { "one iteration", "\"iterations\":2", "\"iterations\":1" },
        { "zero iterations", "\"iterations\":2", "\"iterations\":0" },
        { "zero lanes", "\"parallelism\":1", "\"parallelism\":0" },
    };

    public static TheoryData<string, string, string> AbsurdParameters => new()
    {
        { "memory just over 1 GiB", "\"memoryKiB\":19456", $"\"memoryKiB\":{Argon2Parameters.MaxMemoryKiB + 1}" },
        { "memory of 4 PiB", "\"memoryKiB\":19456", "\"memoryKiB\":4398046511104" },
        { "memory past Int64", "\"memoryKiB\":19456", "\"memoryKiB\":9223372036854775807" },
        { "eleven iterations", "\"iterations\":2", $"\"iterations\":{Argon2Parameters.MaxIterations + 1}" },
        { "a million iterations", "\"iterations\":2", "\"iterations\":1000000" },
        { "nine lanes", "\"parallelism\":1", $"\"parallelism\":{Argon2Parameters.MaxParallelism + 1}" },
        { "65536 lanes", "\"parallelism\":1", "\"parallelism\":65536" },
    };

    [Theory]
    [MemberData(nameof(WeakParameters))]
    public void Open_HeaderWithWeakMemory_IsWeakParametersBeforeTheKdf(string scenario, string forgedMemory)
    {
        var forged = BundleBytes.WithHeader(PassphraseBundle.Value, h => h.Replace("\"memoryKiB\":19456", forgedMemory, StringComparison.Ordinal));

        var e = OpenWithoutKdf(forged, scenario);

        Assert.Equal(BundleFailureReason.WeakParameters, e.Reason);
        Assert.Contains("below the minimum m=19456 KiB, t=2, p=1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(WeakCounts))]
    public void Open_HeaderWithTooFewIterationsOrLanes_IsWeakParametersBeforeTheKdf(string scenario, string original, string forgedValue)
    {
        var forged = BundleBytes.WithHeader(PassphraseBundle.Value, h => h.Replace(original, forgedValue, StringComparison.Ordinal));

        var e = OpenWithoutKdf(forged, scenario);

        Assert.Equal(BundleFailureReason.WeakParameters, e.Reason);
    }

    [Theory]
    [MemberData(nameof(AbsurdParameters))]
    public void Open_HeaderWithAbsurdParameters_IsOutOfBoundsWithoutAllocating(string scenario, string original, string forgedValue)
    {
        var forged = BundleBytes.WithHeader(PassphraseBundle.Value, h => h.Replace(original, forgedValue, StringComparison.Ordinal));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var e = OpenWithoutKdf(forged, scenario);

        Assert.Equal(BundleFailureReason.ParametersOutOfBounds, e.Reason);
        Assert.Contains("exceed the maximum m=1048576 KiB, t=10, p=8", e.Message, StringComparison.Ordinal);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, 0, 256 * 1024);
    }

    [Fact]
    public void Open_HeaderAnnouncingAPayloadOverTheLimit_IsPayloadTooLargeWithoutAllocating()
    {
        var forged = BundleBytes.WithHeader(
            PassphraseBundle.Value,
            h => h.Replace($"\"payloadLength\":{Payload.Length}", $"\"payloadLength\":{BackupBundle.MaxPayloadLength + 1}", StringComparison.Ordinal));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var e = OpenWithoutKdf(forged, "payload over the limit");

        Assert.Equal(BundleFailureReason.PayloadTooLarge, e.Reason);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, 0, 256 * 1024);
    }

    [Fact]
    public void Open_HeaderWithinBoundsButAltered_IsAuthenticationFailed()
    {
        // Stronger parameters than sealed with are within bounds: the KDF runs, derives another key, and the tag (over the header) fails.
        var forged = BundleBytes.WithHeader(PassphraseBundle.Value, h => h.Replace("\"iterations\":2", "\"iterations\":3", StringComparison.Ordinal));

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(forged, BundleOpener.WithPassphrase(Passphrase)));

        Assert.Equal(BundleFailureReason.AuthenticationFailed, e.Reason);
    }

    [Fact]
    public void Open_ContentTypeRelabelled_IsAuthenticationFailed()
    {
        var (bundle, keys) = KeyBundle.Value;
        var forged = BundleBytes.WithHeader(bundle, h => h.Replace("application/octet-stream", "application/x-harmless", StringComparison.Ordinal));

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(forged, BundleOpener.WithPrivateKey(keys.PrivateKeyPem)));

        Assert.Equal(BundleFailureReason.AuthenticationFailed, e.Reason);
    }

    /// <summary>Edits of a passphrase header that Seal would never write, by scenario.</summary>
    private static readonly Dictionary<string, Func<string, string>> PassphraseHeaderEdits = new()
    {
        ["spaces after colons"] = h => h.Replace("\"recipient\":\"passphrase\"", "\"recipient\": \"passphrase\"", StringComparison.Ordinal),
        ["members out of order"] = h => "{" + h[(h.IndexOf(',', StringComparison.Ordinal) + 1)..^1] + ",\"recipient\":\"passphrase\"}",
        ["an unknown member"] = h => h.Replace("\"contentType\"", "\"comment\":\"hi\",\"contentType\"", StringComparison.Ordinal),
        ["a duplicate member"] = h => h.Replace("\"contentType\"", "\"recipient\":\"passphrase\",\"contentType\"", StringComparison.Ordinal),
        ["a missing member"] = h => Regex.Replace(h, ",\"payloadLength\":[0-9]+", ""),
        ["an unknown recipient kind"] = h => h.Replace("\"recipient\":\"passphrase\"", "\"recipient\":\"password\"", StringComparison.Ordinal),
        ["Argon2 version 0x10"] = h => h.Replace("\"version\":19", "\"version\":16", StringComparison.Ordinal),
        ["a 15-byte salt"] = h => Regex.Replace(h, "\"salt\":\"[^\"]*\"", "\"salt\":\"AAAAAAAAAAAAAAAAAAAA\""),
        ["a salt in URL-safe Base64"] = h => Regex.Replace(h, "\"salt\":\"[^\"]*\"", "\"salt\":\"-_-_-_-_-_-_-_-_-_-_-w\""),
        ["an ephemeral key as well"] = h => h.Replace(",\"contentType\"", ",\"ephemeralKey\":\"AAAA\",\"contentType\"", StringComparison.Ordinal),
        ["no Argon2 parameters"] = h => Regex.Replace(h, "\"argon2id\":\\{[^}]*\\},", ""),
        ["a negative payload length"] = h => h.Replace("\"payloadLength\":", "\"payloadLength\":-", StringComparison.Ordinal),
        ["a fractional payload length"] = h => h.Replace($"\"payloadLength\":{Payload.Length}", $"\"payloadLength\":{Payload.Length}.0", StringComparison.Ordinal),
        ["an empty content type"] = h => h.Replace("\"application/octet-stream\"", "\"\"", StringComparison.Ordinal),
        ["a control character in the content type"] = h => h.Replace("application/octet-stream", "application/octet\\u0007stream", StringComparison.Ordinal),
        ["a date that is not a date"] = h => h.Replace("2026-05-01", "2026-13-01", StringComparison.Ordinal),
        ["a JSON array"] = h => "[" + h + "]",
        ["JSON null"] = h => "null",
        ["a non-ASCII content type"] = h => h.Replace("octet", "oct\u00E9t", StringComparison.Ordinal),
    };

    /// <summary>Edits of a recipient-key header that Seal would never write, by scenario.</summary>
    private static readonly Dictionary<string, Func<string, string>> KeyHeaderEdits = new()
    {
        ["an ephemeral key that is not DER"] = h => WithEphemeralKey(h, _ => new byte[91]),
        ["an ephemeral key on P-384"] = h => WithEphemeralKey(h, _ => P384Spki()),
        ["a compressed ephemeral point"] = h => WithEphemeralKey(h, Compressed),
        ["an ephemeral point off the curve"] = h => WithEphemeralKey(h, spki => [.. spki[..^1], (byte)(spki[^1] ^ 0x01)]),
        ["Argon2 parameters as well"] = h => h.Replace(",\"contentType\"", ",\"argon2id\":{},\"contentType\"", StringComparison.Ordinal),
        ["a recipient kind of passphrase"] = h => h.Replace("\"ecdh-p256\"", "\"passphrase\"", StringComparison.Ordinal),
    };

    public static TheoryData<string> PassphraseHeaderScenarios => [.. PassphraseHeaderEdits.Keys];

    public static TheoryData<string> KeyHeaderScenarios => [.. KeyHeaderEdits.Keys];

    [Theory]
    [MemberData(nameof(PassphraseHeaderScenarios))]
    public void Open_PassphraseHeaderNotAsSealWritesIt_IsMalformedHeaderBeforeTheKdf(string scenario)
    {
        var forged = BundleBytes.WithHeader(PassphraseBundle.Value, PassphraseHeaderEdits[scenario]);

        var e = OpenWithoutKdf(forged, scenario);

        Assert.True(e.Reason == BundleFailureReason.MalformedHeader, $"{scenario}: {e.Reason}: {e.Message}");
    }

    [Theory]
    [MemberData(nameof(KeyHeaderScenarios))]
    public void Open_RecipientKeyHeaderNotAsSealWritesIt_IsMalformedHeader(string scenario)
    {
        var (bundle, keys) = KeyBundle.Value;
        var forged = BundleBytes.WithHeader(bundle, KeyHeaderEdits[scenario]);

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(forged, BundleOpener.WithPrivateKey(keys.PrivateKeyPem)));

        Assert.True(e.Reason == BundleFailureReason.MalformedHeader, $"{scenario}: {e.Reason}: {e.Message}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    [InlineData(65535)]
    public void Open_HeaderLengthOutsideOneTo1024_IsMalformedHeader(int length)
    {
        var bundle = (byte[])KeyBundle.Value.Bundle.Clone();
        bundle[10] = (byte)(length >> 8);
        bundle[11] = (byte)length;

        var e = Assert.Throws<BundleException>(() => BackupBundle.Inspect(bundle));

        Assert.Equal(BundleFailureReason.MalformedHeader, e.Reason);
    }

    private static BundleException OpenWithoutKdf(byte[] forged, string scenario)
    {
        var derivations = PassphraseKdf.DerivationsOnThisThread;
        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(forged, BundleOpener.WithPassphrase(Passphrase)));
        Assert.True(PassphraseKdf.DerivationsOnThisThread == derivations, $"{scenario}: the KDF ran before the refusal ({e.Reason}).");
        return e;
    }

    /// <summary>The header with its ephemeral key (DER SPKI, Base64) replaced by <paramref name="edit"/> of it.</summary>
    private static string WithEphemeralKey(string header, Func<byte[], byte[]> edit)
    {
        var start = header.IndexOf("\"ephemeralKey\":\"", StringComparison.Ordinal) + 16;
        var end = header.IndexOf('"', start);
        return header[..start] + Convert.ToBase64String(edit(Convert.FromBase64String(header[start..end]))) + header[end..];
    }

    private static byte[] P384Spki()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        return key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>The same P-256 point as a compressed SPKI: 0x02/0x03 by the parity of y, then x.</summary>
    private static byte[] Compressed(byte[] spki)
    {
        var algorithm = spki[2..23];          // SEQUENCE { id-ecPublicKey, prime256v1 }
        var x = spki[^64..^32];
        var prefix = (byte)(0x02 | (spki[^1] & 1));
        return [0x30, 0x39, .. algorithm, 0x03, 0x22, 0x00, prefix, .. x];
    }
}
