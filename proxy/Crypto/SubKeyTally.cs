namespace Xks.Proxy.Crypto;

/// <summary>What a backend's sub-keys add up to, for the metrics: sub-keys derived for Encrypt, and version keys used directly.</summary>
public sealed class SubKeyTally
{
    private long _derived;
    private int _directUse;

    /// <summary>Sub-keys derived for Encrypt since the process started (each a fresh salt).</summary>
    public long Derived => Interlocked.Read(ref _derived);

    /// <summary>Version keys Encrypt uses directly (ciphertextMetadata format 1: an HSM object without CKA_DERIVE).</summary>
    public int DirectUse => Volatile.Read(ref _directUse);

    public void AddDerived() => Interlocked.Increment(ref _derived);

    public void AddDirectUse() => Interlocked.Increment(ref _directUse);
}
