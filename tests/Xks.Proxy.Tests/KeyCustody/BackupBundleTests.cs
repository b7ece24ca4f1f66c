using System.Security.Cryptography;
using System.Text;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>Sealing and opening: both recipient kinds round-trip, and the wrong opener is refused with a precise reason.</summary>
public sealed class BackupBundleTests
{
    private const string Passphrase = "correct horse battery staple";
    private const string ContentType = "application/vnd.xks.vault-backup+json";
    private static readonly DateTimeOffset CreatedAt = new(2026, 5, 1, 14, 30, 15, 250, TimeSpan.FromHours(2));
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{\"vault\":\"nile\",\"masterKey\":\"c2VjcmV0IGtleSBtYXRlcmlhbA==\"}");

    [Fact]
    public void Open_PassphraseBundleWithItsPassphrase_ReturnsThePayloadAndHeader()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), ContentType, CreatedAt);

        using var opened = BackupBundle.Open(bundle, BundleOpener.WithPassphrase(Passphrase));

        Assert.Equal(Payload, opened.Payload);
        Assert.Equal(BundleRecipientKind.Passphrase, opened.Info.RecipientKind);
        Assert.Equal(ContentType, opened.Info.ContentType);
        Assert.Equal(CreatedAt, opened.Info.CreatedAt);
        Assert.Equal(TimeSpan.Zero, opened.Info.CreatedAt.Offset);
        Assert.Equal(Payload.Length, opened.Info.PayloadLength);
        Assert.Equal(Argon2Parameters.Minimum, opened.Info.Argon2);
    }

    [Fact]
    public void Open_RecipientKeyBundleWithItsPrivateKey_ReturnsThePayloadAndHeader()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);

        using var opened = BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(keys.PrivateKeyPem));

        Assert.Equal(Payload, opened.Payload);
        Assert.Equal(new BundleInfo(BundleRecipientKind.PublicKey, ContentType, CreatedAt, Payload.Length, null), opened.Info);
    }

    [Fact]
    public void Open_EmptyPayload_RoundTrips()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var bundle = BackupBundle.Seal([], BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);

        using var opened = BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(keys.PrivateKeyPem));

        Assert.Empty(opened.Payload);
    }

    [Fact]
    public void Seal_SamePayloadTwice_GivesDifferentBundles()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var recipient = BundleRecipient.ForPublicKey(keys.PublicKeyPem);

        var first = BackupBundle.Seal(Payload, recipient, ContentType, CreatedAt);
        var second = BackupBundle.Seal(Payload, recipient, ContentType, CreatedAt);

        Assert.NotEqual(first, second);
        Assert.NotEqual(BundleBytes.Split(first).Header, BundleBytes.Split(second).Header); // a fresh ephemeral key each time
    }

    [Fact]
    public void Seal_Always_KeepsThePayloadOutOfTheClear()
    {
        var keys = BundleRecipientKeyPair.Generate();

        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);

        Assert.Equal(-1, bundle.AsSpan().IndexOf("masterKey"u8));
    }

    [Fact]
    public void Open_WrongPassphrase_IsAuthenticationFailed()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), ContentType, CreatedAt);

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(bundle, BundleOpener.WithPassphrase(Passphrase + "!")));

        Assert.Equal(BundleFailureReason.AuthenticationFailed, e.Reason);
        Assert.Contains("wrong passphrase or key, or the bundle was altered", e.Message, StringComparison.Ordinal);
        Assert.Contains("cannot tell these apart", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AnotherRecipientsPrivateKey_IsAuthenticationFailed()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(BundleRecipientKeyPair.Generate().PrivateKeyPem)));

        Assert.Equal(BundleFailureReason.AuthenticationFailed, e.Reason);
    }

    [Fact]
    public void Open_PassphraseBundleWithAPrivateKey_IsWrongRecipientKind()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), ContentType, CreatedAt);
        var derivations = PassphraseKdfCalls();

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(BundleRecipientKeyPair.Generate().PrivateKeyPem)));

        Assert.Equal(BundleFailureReason.WrongRecipientKind, e.Reason);
        Assert.Contains("sealed with a passphrase", e.Message, StringComparison.Ordinal);
        Assert.Equal(derivations, PassphraseKdfCalls());
    }

    [Fact]
    public void Open_RecipientKeyBundleWithAPassphrase_IsWrongRecipientKindBeforeTheKdf()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);
        var derivations = PassphraseKdfCalls();

        var e = Assert.Throws<BundleException>(() => BackupBundle.Open(bundle, BundleOpener.WithPassphrase(Passphrase)));

        Assert.Equal(BundleFailureReason.WrongRecipientKind, e.Reason);
        Assert.Contains("sealed for a recipient key", e.Message, StringComparison.Ordinal);
        Assert.Equal(derivations, PassphraseKdfCalls());
    }

    [Fact]
    public void Inspect_WithoutAnOpener_TellsTheRecipientKindAndHeader()
    {
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), ContentType, CreatedAt);
        var derivations = PassphraseKdfCalls();

        var info = BackupBundle.Inspect(bundle);

        Assert.Equal(new BundleInfo(BundleRecipientKind.Passphrase, ContentType, CreatedAt, Payload.Length, Argon2Parameters.Minimum), info);
        Assert.Equal(derivations, PassphraseKdfCalls());
    }

    [Fact]
    public void Dispose_OpenedBundle_ZeroesThePayload()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var bundle = BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);
        var opened = BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(keys.PrivateKeyPem));
        var payload = opened.Payload;

        opened.Dispose();

        Assert.All(payload, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData("")]
    [InlineData("text/plain\n")]
    [InlineData("application/vnd.xks.vault-backup+json; note=caf\u00e9")]
    public void Seal_ContentTypeNotPrintableAsciiOrEmpty_IsRefused(string contentType)
    {
        var keys = BundleRecipientKeyPair.Generate();

        Assert.Throws<ArgumentException>("contentType", () => BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), contentType, CreatedAt));
    }

    [Fact]
    public void Seal_ContentTypeOver128Characters_IsRefused()
    {
        var keys = BundleRecipientKeyPair.Generate();

        Assert.Throws<ArgumentException>("contentType", () => BackupBundle.Seal(Payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), new string('a', 129), CreatedAt));
    }

    [Fact]
    public void Seal_PayloadOverTheLimit_IsRefusedBeforeAnyKeyIsDerived()
    {
        var derivations = PassphraseKdfCalls();
        var tooLarge = new byte[BackupBundle.MaxPayloadLength + 1];

        var e = Assert.Throws<ArgumentException>("payload", () => BackupBundle.Seal(tooLarge, BundleRecipient.ForPassphrase(Passphrase), ContentType, CreatedAt));

        Assert.Contains($"limit is {BackupBundle.MaxPayloadLength}", e.Message, StringComparison.Ordinal);
        Assert.Equal(derivations, PassphraseKdfCalls());
    }

    [Fact]
    public void Seal_Always_WritesTheDocumentedLayout()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var payload = RandomNumberGenerator.GetBytes(1000);

        var bundle = BackupBundle.Seal(payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), ContentType, CreatedAt);

        var parts = BundleBytes.Split(bundle);
        Assert.Equal("XKSBUNDLE\u0001"u8.ToArray(), parts.Prefix[..10]);
        Assert.Equal(payload.Length, parts.Ciphertext.Length);
        Assert.StartsWith("{\"recipient\":\"ecdh-p256\",\"ephemeralKey\":\"", parts.Header, StringComparison.Ordinal);
        Assert.Contains("\"contentType\":\"application/vnd.xks.vault-backup\\u002Bjson\"", parts.Header, StringComparison.Ordinal); // '+' JSON-escaped
        Assert.Contains("\"createdAt\":\"2026-05-01T12:30:15.25+00:00\"", parts.Header, StringComparison.Ordinal); // in UTC
        Assert.EndsWith($",\"payloadLength\":{payload.Length}}}", parts.Header, StringComparison.Ordinal);
        using var opened = BackupBundle.Open(bundle, BundleOpener.WithPrivateKey(keys.PrivateKeyPem));
        Assert.Equal(payload, opened.Payload);
    }

    private static int PassphraseKdfCalls() => PassphraseKdf.DerivationsOnThisThread;
}
