namespace Xks.Proxy.Crypto.Software;

/// <summary>What <see cref="SoftwareKeyBackend.Unseal(ReadOnlySpan{byte}, out string?)"/> did with a combined unseal key.</summary>
public enum ShamirUnsealOutcome
{
    /// <summary>The key was the Vault's: the roots are open and every configured key was loaded again.</summary>
    Unsealed,

    /// <summary>The backend was unsealed already; the key was not used.</summary>
    AlreadyUnsealed,

    /// <summary>The key's key-check value is not the keyring's: wrong or too few shares. Nothing was decrypted.</summary>
    WrongShares,

    /// <summary>The key is the Vault's but a root of the keyring does not open (the keyring was altered).</summary>
    KeyringUnusable,
}
