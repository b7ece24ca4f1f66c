using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// Shamir secret sharing over GF(2^8) with the AES polynomial (<see cref="Gf256"/>), one byte at a time: each byte of
/// the secret is the constant term of its own random polynomial of degree threshold − 1, and a share holds the value of
/// every one of those polynomials at its x. A share is x (one byte, 1–255) followed by one y byte per secret byte, the
/// share layout of draft-mcgrew-tss-03 (share index, then share data), whose §9 test case this code reproduces. Any
/// threshold of the shares give the secret back (Lagrange interpolation at 0); fewer give no information about it.
/// The field arithmetic is constant time, and every temporary that holds coefficients or basis values is zeroed.
/// </summary>
public static class Shamir
{
    /// <summary>The smallest threshold: one share alone would be the secret itself.</summary>
    public const int MinThreshold = 2;

    /// <summary>The most shares of one secret: x runs over the non-zero bytes.</summary>
    public const int MaxShares = 255;

    /// <summary>The longest secret, in bytes (a root key is 32).</summary>
    public const int MaxSecretLength = 1024;

    /// <summary>
    /// Splits <paramref name="secret"/> into <paramref name="shareCount"/> shares, any <paramref name="threshold"/> of
    /// which give it back. Share i (from 0) has x = i + 1, so x doubles as the custodian's number; its length is one
    /// more than the secret's. The coefficients come from <see cref="RandomNumberGenerator"/>; they are uniform, so the
    /// top one may be 0 (which is what makes every set of fewer than threshold shares independent of the secret).
    /// </summary>
    /// <exception cref="ArgumentException">The secret is empty or longer than <see cref="MaxSecretLength"/> bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Not 2 ≤ threshold ≤ shareCount ≤ 255.</exception>
    public static byte[][] Split(ReadOnlySpan<byte> secret, int threshold, int shareCount)
    {
        CheckSplitArguments(secret, threshold, shareCount);
        var coefficients = new byte[secret.Length * (threshold - 1)];
        try
        {
            RandomNumberGenerator.Fill(coefficients);
            return Evaluate(secret, threshold, shareCount, coefficients);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(coefficients);
        }
    }

    /// <summary>
    /// <see cref="Split(ReadOnlySpan{byte}, int, int)"/> with given coefficients instead of random ones, for known-answer
    /// tests: <c>coefficients[b * (threshold - 1) + (k - 1)]</c> is the coefficient of x^k in the polynomial of secret
    /// byte b, for k from 1 to threshold − 1.
    /// </summary>
    internal static byte[][] Split(ReadOnlySpan<byte> secret, int threshold, int shareCount, ReadOnlySpan<byte> coefficients)
    {
        CheckSplitArguments(secret, threshold, shareCount);
        if (coefficients.Length != secret.Length * (threshold - 1))
        {
            throw new ArgumentException(
                $"There must be {threshold - 1} coefficients per secret byte, {secret.Length * (threshold - 1)} in all (got {coefficients.Length}).",
                nameof(coefficients));
        }

        return Evaluate(secret, threshold, shareCount, coefficients);
    }

    /// <summary>
    /// Gives back the secret from <paramref name="shares"/> (each x ‖ y, as <see cref="Split(ReadOnlySpan{byte}, int, int)"/>
    /// makes them) by Lagrange interpolation at x = 0. Refuses, with an <see cref="ArgumentException"/> naming the share
    /// by its position and never quoting its bytes: fewer than 2 shares, a share shorter than 2 or longer than
    /// 1 + <see cref="MaxSecretLength"/> bytes, shares of different lengths, x = 0, and the same x twice.
    /// </summary>
    /// <remarks>
    /// Combine cannot itself detect a wrong result. A share is not authenticated and the threshold is not stored in it:
    /// given fewer shares than the threshold, a share of another split, or a mistyped share, it returns some other
    /// value without error. The caller must verify the result against a key-check value (for example, unwrap a value
    /// wrapped under the expected key) before trusting it, and zero it when done.
    /// </remarks>
    public static byte[] Combine(IReadOnlyList<ReadOnlyMemory<byte>> shares)
    {
        ArgumentNullException.ThrowIfNull(shares);
        CheckShares(shares);

        var count = shares.Count;
        var secret = new byte[shares[0].Length - 1];
        var basis = new byte[count];
        try
        {
            // basis[i] = l_i(0) = Π_{j≠i} x_j / (x_i − x_j), and subtraction is XOR in GF(2^8).
            for (var i = 0; i < count; i++)
            {
                var xi = shares[i].Span[0];
                byte numerator = 1;
                byte denominator = 1;
                for (var j = 0; j < count; j++)
                {
                    if (j == i)
                    {
                        continue;
                    }

                    var xj = shares[j].Span[0];
                    numerator = Gf256.Multiply(numerator, xj);
                    denominator = Gf256.Multiply(denominator, Gf256.Add(xi, xj));
                }

                basis[i] = Gf256.Multiply(numerator, Gf256.Inverse(denominator));
            }

            for (var i = 0; i < count; i++)
            {
                var y = shares[i].Span[1..];
                var weight = basis[i];
                for (var b = 0; b < secret.Length; b++)
                {
                    secret[b] = Gf256.Add(secret[b], Gf256.Multiply(weight, y[b]));
                }
            }

            return secret;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(basis);
        }
    }

    private static byte[][] Evaluate(ReadOnlySpan<byte> secret, int threshold, int shareCount, ReadOnlySpan<byte> coefficients)
    {
        var degree = threshold - 1;
        var shares = new byte[shareCount][];
        for (var i = 0; i < shareCount; i++)
        {
            var x = (byte)(i + 1);
            var share = new byte[1 + secret.Length];
            share[0] = x;
            for (var b = 0; b < secret.Length; b++)
            {
                // Horner: (…(a_d·x + a_{d−1})·x + … + a_1)·x + s.
                var terms = coefficients.Slice(b * degree, degree);
                byte y = 0;
                for (var k = degree - 1; k >= 0; k--)
                {
                    y = Gf256.Add(Gf256.Multiply(y, x), terms[k]);
                }

                share[1 + b] = Gf256.Add(Gf256.Multiply(y, x), secret[b]);
            }

            shares[i] = share;
        }

        return shares;
    }

    private static void CheckSplitArguments(ReadOnlySpan<byte> secret, int threshold, int shareCount)
    {
        if (secret.IsEmpty || secret.Length > MaxSecretLength)
        {
            throw new ArgumentException($"The secret must be 1 to {MaxSecretLength} bytes (got {secret.Length}).", nameof(secret));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, MinThreshold);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shareCount, MaxShares);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threshold, shareCount);
    }

    private static void CheckShares(IReadOnlyList<ReadOnlyMemory<byte>> shares)
    {
        var count = shares.Count;
        if (count < MinThreshold)
        {
            throw new ArgumentException(
                $"At least {MinThreshold} shares are needed to combine (got {count}).", nameof(shares));
        }

        if (count > MaxShares)
        {
            throw new ArgumentException(
                $"At most {MaxShares} shares can be combined (got {count}): no two shares of one split have the same x.", nameof(shares));
        }

        var length = shares[0].Length;
        Span<int> firstWithX = stackalloc int[256];
        firstWithX.Fill(-1);
        for (var i = 0; i < count; i++)
        {
            var share = shares[i].Span;
            if (share.Length < 2)
            {
                throw new ArgumentException(
                    $"shares[{i}] is {share.Length} byte(s) long: a share is its x byte followed by at least one y byte.", nameof(shares));
            }

            if (share.Length > 1 + MaxSecretLength)
            {
                throw new ArgumentException(
                    $"shares[{i}] is {share.Length} bytes long: a share is at most {1 + MaxSecretLength} bytes (x and up to {MaxSecretLength} y bytes).",
                    nameof(shares));
            }

            if (share.Length != length)
            {
                throw new ArgumentException(
                    $"shares[{i}] is {share.Length} bytes long but shares[0] is {length}: shares of one secret all have the same length, so these come from different splits or one is cut short.",
                    nameof(shares));
            }

            var x = share[0];
            if (x == 0)
            {
                throw new ArgumentException(
                    $"shares[{i}] has x = 0, which no share has: the polynomial's value at 0 is the secret itself.", nameof(shares));
            }

            if (firstWithX[x] >= 0)
            {
                throw new ArgumentException(
                    $"shares[{firstWithX[x]}] and shares[{i}] have the same x: the same custodian's share was given twice.", nameof(shares));
            }

            firstWithX[x] = i;
        }
    }
}
