using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The payload and authenticated header of an opened bundle. The payload carries key material: dispose this object
/// (or zero <see cref="Payload"/>) as soon as it has been used; <see cref="Dispose"/> zeroes it.
/// </summary>
public sealed class OpenedBundle(byte[] payload, BundleInfo info) : IDisposable
{
    /// <summary>The decrypted payload; zeroed by <see cref="Dispose"/>.</summary>
#pragma warning disable CA1819 // the caller owns this buffer and must be able to zero it
    public byte[] Payload { get; } = payload;
#pragma warning restore CA1819

    public BundleInfo Info { get; } = info;

    public void Dispose() => CryptographicOperations.ZeroMemory(Payload);
}
