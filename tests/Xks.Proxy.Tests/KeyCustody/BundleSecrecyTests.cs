using System.Text;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>No refusal, whatever its reason, carries the passphrase, the private key or the payload in its text.</summary>
public sealed class BundleSecrecyTests
{
    private const string Passphrase = "Sekrit-Passphrase-7f3a9c";
    private const string PayloadMarker = "PAYLOAD-MARKER-91d2";

    [Fact]
    public void Refusals_OfEveryKind_NeverContainThePassphraseKeyOrPayload()
    {
        var payload = Encoding.UTF8.GetBytes($"{{\"masterKey\":\"{PayloadMarker}\"}}");
        var keys = BundleRecipientKeyPair.Generate();
        var passphraseBundle = BackupBundle.Seal(payload, BundleRecipient.ForPassphrase(Passphrase, Argon2Parameters.Minimum), "application/json", DateTimeOffset.UnixEpoch);
        var keyBundle = BackupBundle.Seal(payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), "application/json", DateTimeOffset.UnixEpoch);
        var tampered = (byte[])passphraseBundle.Clone();
        tampered[^1] ^= 1;
        var refusals = new List<Exception>
        {
            Assert.Throws<BundleException>(() => BackupBundle.Open(passphraseBundle, BundleOpener.WithPassphrase(Passphrase + "x"))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(tampered, BundleOpener.WithPassphrase(Passphrase))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(passphraseBundle, BundleOpener.WithPrivateKey(keys.PrivateKeyPem))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(keyBundle, BundleOpener.WithPassphrase(Passphrase))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(keyBundle, BundleOpener.WithPrivateKey(BundleRecipientKeyPair.Generate().PrivateKeyPem))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(passphraseBundle.AsSpan(0, passphraseBundle.Length - 1), BundleOpener.WithPassphrase(Passphrase))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(BundleBytes.WithHeader(passphraseBundle, h => h.Replace("\"memoryKiB\":19456", "\"memoryKiB\":1024", StringComparison.Ordinal)), BundleOpener.WithPassphrase(Passphrase))),
            Assert.Throws<BundleException>(() => BackupBundle.Open(BundleBytes.WithHeader(passphraseBundle, h => h.Replace("{", "{ ", StringComparison.Ordinal)), BundleOpener.WithPassphrase(Passphrase))),
            Assert.Throws<ArgumentException>(() => BundleRecipient.ForPassphrase(Passphrase[..11])),
            Assert.Throws<ArgumentException>(() => BundleRecipient.ForPublicKey(keys.PrivateKeyPem)),
            Assert.Throws<ArgumentException>(() => BundleOpener.WithPrivateKey(keys.PublicKeyPem)),
        };
        var privateKeyBody = keys.PrivateKeyPem.Split('\n')[1];

        Assert.All(refusals, e =>
        {
            var text = e.ToString();
            Assert.DoesNotContain(Passphrase[..11], text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Passphrase)), text, StringComparison.Ordinal);
            Assert.DoesNotContain(privateKeyBody, text, StringComparison.Ordinal);
            Assert.DoesNotContain(PayloadMarker, text, StringComparison.Ordinal);
        });
        Assert.Equal(8, refusals.OfType<BundleException>().Select(e => e.Reason).Count());
    }
}
