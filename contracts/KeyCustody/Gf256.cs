namespace Xks.Contracts.KeyCustody;

/// <summary>
/// Arithmetic in GF(2^8) with the AES (Rijndael) reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11B), as in FIPS-197
/// §4. Share bytes are secret, so every operation runs in time independent of its operands: no branch and no table
/// look-up depends on a value; the loops run a fixed number of times and select with masks.
/// </summary>
internal static class Gf256
{
    /// <summary>The reduction polynomial x^8 + x^4 + x^3 + x + 1.</summary>
    public const int Polynomial = 0x11B;

    /// <summary>Addition (and subtraction): the bitwise XOR of the two polynomials (FIPS-197 §4.1).</summary>
    public static byte Add(byte a, byte b) => (byte)(a ^ b);

    /// <summary>
    /// Multiplication modulo <see cref="Polynomial"/> (FIPS-197 §4.2): eight rounds of "add a if the low bit of b is
    /// set, then a = xtime(a)", with the condition turned into an all-ones or all-zeros mask.
    /// </summary>
    public static byte Multiply(byte a, byte b)
    {
        int x = a;
        int y = b;
        var product = 0;
        for (var i = 0; i < 8; i++)
        {
            product ^= x & -(y & 1);
            // xtime: shift left and reduce when bit 7 was set; the mask is 0x11B or 0, and bit 8 cancels out.
            x = (x << 1) ^ (Polynomial & -((x >> 7) & 1));
            y >>= 1;
        }

        return (byte)product;
    }

    /// <summary>
    /// The multiplicative inverse, a^254 (a^255 = 1 for every non-zero a), by a fixed chain of squarings and
    /// multiplications: a^2 · a^4 · … · a^128 = a^254. By this formula the inverse of 0 is 0; callers never divide by 0.
    /// </summary>
    public static byte Inverse(byte a)
    {
        var power = a;
        byte result = 1;
        for (var i = 0; i < 7; i++)
        {
            power = Multiply(power, power);
            result = Multiply(result, power);
        }

        return result;
    }
}
