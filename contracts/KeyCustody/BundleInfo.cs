namespace Xks.Contracts.KeyCustody;

/// <summary>
/// What a bundle's header says. From <see cref="BackupBundle.Open"/> it is authenticated; from
/// <see cref="BackupBundle.Inspect"/> it is not (anyone could have written it) and only tells which opener to ask for.
/// </summary>
/// <param name="RecipientKind">Whether a passphrase or a recipient key opens the bundle.</param>
/// <param name="ContentType">What the payload is, as the sealer named it.</param>
/// <param name="CreatedAt">When the sealer said the bundle was made (UTC).</param>
/// <param name="PayloadLength">Bytes of the payload.</param>
/// <param name="Argon2">The KDF parameters of a passphrase bundle; null for a recipient-key bundle.</param>
public sealed record BundleInfo(
    BundleRecipientKind RecipientKind,
    string ContentType,
    DateTimeOffset CreatedAt,
    int PayloadLength,
    Argon2Parameters? Argon2);
