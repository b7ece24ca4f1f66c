namespace Xks.Contracts.KeyWrap;

/// <summary>
/// One master-key (root) version for a <see cref="MasterKeyRing"/>: its number (1 or more), its 32-byte key (the ring
/// copies it; the caller keeps and zeroes its own buffer) and, when a keyring document recorded it, its key-check
/// value as hex (<see cref="WrappedKey.KeyCheckValue(ReadOnlySpan{byte})"/>), which the key must match.
/// </summary>
public readonly record struct MasterKeyRoot(int Version, ReadOnlyMemory<byte> Key, string? RecordedKeyCheckValue = null)
{
    /// <summary>The version and recorded key-check value; never the key.</summary>
    public override string ToString() =>
        $"MasterKeyRoot {{ Version = {Version}, RecordedKeyCheckValue = {RecordedKeyCheckValue ?? "(none)"} }}";
}
