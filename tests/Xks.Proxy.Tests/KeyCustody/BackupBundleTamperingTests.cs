using System.Text;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>
/// Any change to a bundle is refused, and with the reason of the region it hit: the magic (not a bundle), the version,
/// the length or header (structure or authentication), and the nonce, ciphertext and tag (authentication).
/// </summary>
public sealed class BackupBundleTamperingTests
{
    private const string Passphrase = "correct horse battery staple";
    private static readonly DateTimeOffset CreatedAt = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("vault nile: master key and every key version, wrapped");

    /// <summary>What a flipped bit in the length prefix or header may be refused as: anything but success or a wrong region.</summary>
    private static readonly BundleFailureReason[] HeaderReasons =
    [
        BundleFailureReason.Truncated, BundleFailureReason.TrailingData, BundleFailureReason.MalformedHeader,
        BundleFailureReason.PayloadTooLarge, BundleFailureReason.WeakParameters, BundleFailureReason.ParametersOutOfBounds,
        BundleFailureReason.AuthenticationFailed,
    ];

    private static readonly BundleRecipientKeyPair Keys = BundleRecipientKeyPair.Generate();

    [Fact]
    public void Open_FlippedBitAnywhereInARecipientKeyBundle_IsRefusedWithTheReasonOfItsRegion()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(Keys.PublicKeyPem), "application/octet-stream", CreatedAt);
        var opener = BundleOpener.WithPrivateKey(Keys.PrivateKeyPem);
        var headerEnd = BundleBytes.PrefixLength + BundleBytes.Split(bundle).HeaderLength;

        for (var position = 0; position < bundle.Length; position++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var reason = OpenFlipped(bundle, position, bit, opener);

                AssertReasonFor(position, headerEnd, reason);
            }
        }
    }

    [Fact]
    public void Open_FlippedByteAtASpreadOfPositionsInAPassphraseBundle_IsRefusedWithTheReasonOfItsRegion()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), "application/octet-stream", CreatedAt);
        var opener = BundleOpener.WithPassphrase(Passphrase);
        var parts = BundleBytes.Split(bundle);
        var headerEnd = BundleBytes.PrefixLength + parts.HeaderLength;
        var saltAt = BundleBytes.PrefixLength + parts.Header.IndexOf("\"salt\":\"", StringComparison.Ordinal) + 9;
        int[] positions =
        [
            0, 4, 8,                            // magic
            9,                                  // version
            10, 11,                             // header length
            12, 40, saltAt, headerEnd - 2,      // header: opening, Argon2 parameters, salt, payload length
            headerEnd, headerEnd + 11,          // nonce
            headerEnd + 12 + Payload.Length / 2, // ciphertext
            bundle.Length - 16, bundle.Length - 1, // tag
        ];

        foreach (var position in positions)
        {
            var reason = OpenFlipped(bundle, position, position % 8, opener);

            AssertReasonFor(position, headerEnd, reason);
        }
    }

    [Fact]
    public void Open_TruncatedAtAnyLength_IsTruncated()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(Keys.PublicKeyPem), "application/octet-stream", CreatedAt);
        var opener = BundleOpener.WithPrivateKey(Keys.PrivateKeyPem);
        var headerEnd = BundleBytes.PrefixLength + BundleBytes.Split(bundle).HeaderLength;
        int[] lengths = [0, 1, 8, 9, 10, 11, 12, 13, headerEnd / 2, headerEnd - 1, headerEnd, headerEnd + 6, headerEnd + 12, headerEnd + 20, bundle.Length - 16, bundle.Length - 1];

        foreach (var length in lengths)
        {
            var e = Assert.Throws<BundleException>(() => BackupBundle.Open(bundle.AsSpan(0, length), opener));

            Assert.True(e.Reason == BundleFailureReason.Truncated, $"length {length}: {e.Reason}: {e.Message}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(4096)]
    public void Open_BytesAppended_IsTrailingData(int appended)
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(Keys.PublicKeyPem), "application/octet-stream", CreatedAt);

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open([.. bundle, .. new byte[appended]], BundleOpener.WithPrivateKey(Keys.PrivateKeyPem)));

        Assert.Equal(BundleFailureReason.TrailingData, e.Reason);
        Assert.Contains($"{appended} bytes were appended", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TwoBundlesConcatenated_IsTrailingData()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(Keys.PublicKeyPem), "application/octet-stream", CreatedAt);

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open([.. bundle, .. bundle], BundleOpener.WithPrivateKey(Keys.PrivateKeyPem)));

        Assert.Equal(BundleFailureReason.TrailingData, e.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"recipient\":\"passphrase\"}")]
    [InlineData("-----BEGIN PUBLIC KEY-----")]
    [InlineData("XKSBUNDLF\u0001")]
    [InlineData("xksbundle\u0001")]
    public void Open_DataThatIsNotABundle_IsNotABundleOrTruncated(string text)
    {
        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(Encoding.UTF8.GetBytes(text), BundleOpener.WithPassphrase(Passphrase)));

        Assert.Equal(text.Length == 0 ? BundleFailureReason.Truncated : BundleFailureReason.NotABundle, e.Reason);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x02)]
    [InlineData(0xFF)]
    public void Open_AnotherFormatVersion_IsUnsupportedVersion(byte version)
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(Keys.PublicKeyPem), "application/octet-stream", CreatedAt);
        bundle[9] = version;

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(Keys.PrivateKeyPem)));

        Assert.Equal(BundleFailureReason.UnsupportedVersion, e.Reason);
        Assert.Contains($"version {version} is not supported", e.Message, StringComparison.Ordinal);
    }

    private static BundleFailureReason OpenFlipped(byte[] bundle, int position, int bit, BundleOpener opener)
    {
        var tampered = (byte[])bundle.Clone();
        tampered[position] ^= (byte)(1 << bit);
        try
        {
            using var opened = BackupBundle.Open(tampered, opener);
        }
        catch (BundleException e)
        {
            return e.Reason;
        }

        Assert.Fail($"A bundle with bit {bit} of byte {position} flipped was opened.");
        return default;
    }

    private static void AssertReasonFor(int position, int headerEnd, BundleFailureReason reason)
    {
        var allowed = position switch
        {
            < 9 => [BundleFailureReason.NotABundle],
            9 => [BundleFailureReason.UnsupportedVersion],
            _ when position < headerEnd => HeaderReasons,
            _ => [BundleFailureReason.AuthenticationFailed], // nonce, ciphertext, tag
        };
        Assert.True(allowed.Contains(reason), $"byte {position} (header ends at {headerEnd}): refused as {reason}, expected one of {string.Join(", ", allowed)}");
    }
}
