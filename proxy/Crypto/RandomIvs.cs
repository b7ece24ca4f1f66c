using System.Security.Cryptography;

namespace Xks.Proxy.Crypto;

/// <summary>
/// Fresh 96-bit GCM nonces from the system CSPRNG, drawn from a per-thread block of random bytes so that an Encrypt
/// does not pay a CSPRNG call of its own. IVs are public (they travel with the ciphertext); each is used once.
/// </summary>
public static class RandomIvs
{
    private const int BlockSize = 12 * 256;

    [ThreadStatic]
    private static byte[]? t_block;

    [ThreadStatic]
    private static int t_position;

    public static void Next(Span<byte> iv)
    {
        var block = t_block;
        if (block is null || t_position + iv.Length > block.Length)
        {
            block = t_block ??= new byte[BlockSize];
            RandomNumberGenerator.Fill(block);
            t_position = 0;
        }

        var source = block.AsSpan(t_position, iv.Length);
        source.CopyTo(iv);
        source.Clear();
        t_position += iv.Length;
    }
}
