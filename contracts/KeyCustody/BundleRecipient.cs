using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// Whom <see cref="BackupBundle.Seal"/> encrypts for: a passphrase (Argon2id) or a P-256 recipient public key (ECDH).
/// Made through <see cref="ForPassphrase"/> or <see cref="ForPublicKey"/>, which refuse weak or malformed input with an
/// <see cref="ArgumentException"/> whose message never contains the passphrase.
/// </summary>
public sealed class BundleRecipient
{
    /// <summary>Fewest Unicode scalar values (runes) a sealing passphrase may have.</summary>
    public const int MinPassphraseLength = 12;

    private BundleRecipient(BundleRecipientKind kind, string? passphrase, Argon2Parameters? argon2, byte[]? publicKeySpki)
    {
        Kind = kind;
        Passphrase = passphrase;
        Argon2 = argon2;
        PublicKeySpki = publicKeySpki;
    }

    public BundleRecipientKind Kind { get; }

    internal string? Passphrase { get; }

    internal Argon2Parameters? Argon2 { get; }

    /// <summary>Canonical DER SubjectPublicKeyInfo of the recipient key.</summary>
    internal byte[]? PublicKeySpki { get; }

    /// <summary>
    /// A passphrase recipient: at least <see cref="MinPassphraseLength"/> characters (counted as Unicode scalar values),
    /// used as its UTF-8 bytes exactly as given (no Unicode normalisation). <paramref name="parameters"/> defaults to
    /// <see cref="Argon2Parameters.Default"/> and must be within the bounds Open accepts.
    /// </summary>
    public static BundleRecipient ForPassphrase(string passphrase, Argon2Parameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        var runes = 0;
        foreach (var _ in passphrase.EnumerateRunes())
        {
            runes++;
        }

        if (runes < MinPassphraseLength)
        {
            throw new ArgumentException($"The passphrase must be at least {MinPassphraseLength} characters (got {runes}).", nameof(passphrase));
        }

        parameters ??= Argon2Parameters.Default;
        if (Argon2Parameters.Check(parameters.MemoryKiB, parameters.Iterations, parameters.Parallelism) is { } problem)
        {
            throw new ArgumentException(problem.Message, nameof(parameters));
        }

        return new BundleRecipient(BundleRecipientKind.Passphrase, passphrase, parameters, null);
    }

    /// <summary>A recipient key: a P-256 public key as PEM SubjectPublicKeyInfo (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public static BundleRecipient ForPublicKey(string publicKeyPem)
    {
        using var key = RecipientKeyAgreement.ImportPem(publicKeyPem, "PUBLIC KEY", nameof(publicKeyPem));
        return new BundleRecipient(BundleRecipientKind.PublicKey, null, null, key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The recipient key as imported; the caller disposes it.</summary>
    internal ECDiffieHellman ImportPublicKey() =>
        RecipientKeyAgreement.TryImportPublicKey(PublicKeySpki) ?? throw new InvalidOperationException("Not a recipient-key recipient.");
}
