namespace Xks.Contracts.KeyCustody;

/// <summary>Whom a bundle is sealed for, as recorded in its header.</summary>
public enum BundleRecipientKind
{
    /// <summary>A passphrase, stretched with Argon2id (header <c>"recipient":"passphrase"</c>).</summary>
    Passphrase,

    /// <summary>A P-256 recipient key, through ECDH with an ephemeral key and HKDF-SHA256 (header <c>"recipient":"ecdh-p256"</c>).</summary>
    PublicKey,
}
