namespace Xks.Contracts.KeyCustody;

/// <summary>Why <see cref="BackupBundle.Open"/> or <see cref="BackupBundle.Inspect"/> refused a bundle.</summary>
public enum BundleFailureReason
{
    /// <summary>The bytes do not start with the bundle magic (<c>XKSBUNDLE</c>): not a bundle at all.</summary>
    NotABundle,

    /// <summary>The magic is right but the format version byte is one this code does not read.</summary>
    UnsupportedVersion,

    /// <summary>The bundle ends before the length its own prefix and header announce.</summary>
    Truncated,

    /// <summary>Bytes follow the authentication tag: something was appended to the bundle.</summary>
    TrailingData,

    /// <summary>The header is not the canonical JSON of a known recipient kind with every field in range.</summary>
    MalformedHeader,

    /// <summary>The header announces a payload larger than <see cref="BackupBundle.MaxPayloadLength"/>.</summary>
    PayloadTooLarge,

    /// <summary>The header's Argon2id parameters are below the floor (<see cref="Argon2Parameters.Minimum"/>): a downgrade.</summary>
    WeakParameters,

    /// <summary>The header's Argon2id parameters are above the ceiling: running them could exhaust memory or time.</summary>
    ParametersOutOfBounds,

    /// <summary>The bundle was sealed for the other kind of recipient (passphrase vs. recipient key).</summary>
    WrongRecipientKind,

    /// <summary>
    /// The AES-GCM tag did not verify: a wrong passphrase, a wrong private key, or bytes altered anywhere in the
    /// bundle. GCM cannot tell these apart, so neither can this code.
    /// </summary>
    AuthenticationFailed,
}
