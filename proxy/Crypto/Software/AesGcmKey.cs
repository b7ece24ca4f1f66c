using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Xks.Proxy.Crypto.Software;

/// <summary>
/// One AES-256 key held in memory (a key version's own key, or a sub-key derived from it for <see cref="Salt"/>),
/// with a small pool of <see cref="AesGcm"/> instances (an instance is not safe for concurrent use, and creating one
/// per request costs a key schedule).
/// </summary>
internal sealed class AesGcmKey : ISubKey
{
    public const int KeySize = 32;
    public const int IvSize = 12;
    public const int TagSize = 16;

    private readonly byte[] _material;
    private readonly ConcurrentQueue<AesGcm> _pool = new();
    private readonly int _maxPooled = Environment.ProcessorCount * 4;
    private readonly byte[] _salt;

    public AesGcmKey(ReadOnlySpan<byte> material, ReadOnlySpan<byte> salt = default)
    {
        if (material.Length != KeySize)
        {
            throw new ArgumentException($"an AES-256 key is {KeySize} bytes", nameof(material));
        }

        _material = GC.AllocateArray<byte>(KeySize, pinned: true);
        material.CopyTo(_material);
        _salt = salt.ToArray();
    }

    public ReadOnlySpan<byte> Salt => _salt;

    public void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag)
    {
        RandomIvs.Next(iv[..IvSize]);
        var gcm = Rent();
        try
        {
            gcm.Encrypt(iv[..IvSize], plaintext, ciphertext, tag, aad);
        }
        finally
        {
            Return(gcm);
        }
    }

    public bool TryDecrypt(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext)
    {
        if (iv.Length != IvSize || tag.Length != TagSize)
        {
            // .NET's AES-GCM takes 96-bit nonces only, and this proxy only ever produces those.
            return false;
        }

        var gcm = Rent();
        try
        {
            gcm.Decrypt(iv, ciphertext, tag, plaintext, aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
        finally
        {
            Return(gcm);
        }
    }

    private AesGcm Rent() => _pool.TryDequeue(out var gcm) ? gcm : new AesGcm(_material, TagSize);

    private void Return(AesGcm gcm)
    {
        if (_pool.Count < _maxPooled)
        {
            _pool.Enqueue(gcm);
        }
        else
        {
            gcm.Dispose();
        }
    }
}
