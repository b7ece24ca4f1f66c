using System.Numerics;
using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody.Tests;

public sealed class ShamirTests
{
    // draft-mcgrew-tss-03 (McGrew, Patnala, Hoenes, "Threshold Secret Sharing", IETF Internet-Draft, 2010), §9 Test
    // Cases, the one official case: secret 7465737400 ("test" and a zero byte), threshold M = 2, N = 2 shares, share
    // index 1 → B9FA07E185, share index 2 → F5409B4511. The draft uses GF(256) with the AES polynomial and writes a
    // share as index ‖ data, as Shamir does. The same bytes are the known-answer test of several independent TSS
    // implementations (the tss-rb Ruby gem, Go and Java ports).
    private static readonly byte[] TssSecret = Convert.FromHexString("7465737400");
    private static readonly byte[] TssShare1 = Convert.FromHexString("01B9FA07E185");
    private static readonly byte[] TssShare2 = Convert.FromHexString("02F5409B4511");

    // Hand-checked 3-of-5 vector (no published one with fixed coefficients and three or more shares turned up):
    // secret 57 13, polynomials f0(x) = {57} ⊕ {83}x ⊕ {02}x² and f1(x) = {13} ⊕ {ca}x ⊕ {53}x².
    // By hand, byte 0: f0(1) = 57 ⊕ 83 ⊕ 02 = d6; f0(2) = 57 ⊕ (83 • 02 = 1d) ⊕ (02 • 04 = 08) = 42;
    // f0(3) = 57 ⊕ (83 • 03 = 1d ⊕ 83 = 9e) ⊕ (02 • 05 = 0a) = c3 (3 • 3 = 05). Byte 1 at x = 1: 13 ⊕ ca ⊕ 53 = 8a.
    // All ten y bytes were also computed with an independent schoolbook multiply-then-reduce script (not committed).
    private static readonly byte[] HandSecret = Convert.FromHexString("5713");
    private static readonly byte[] HandCoefficients = Convert.FromHexString("8302ca53");
    private static readonly string[] HandShares = ["01D68A", "0242CB", "03C352", "044D51", "05CCC8"];

    [Fact]
    public void Combine_IetfTssDraftTestCase_ReturnsTheSecret()
    {
        Assert.Equal(TssSecret, Shamir.Combine([TssShare1, TssShare2]));
        Assert.Equal(TssSecret, Shamir.Combine([TssShare2, TssShare1]));
    }

    [Fact]
    public void Split_IetfTssDraftCoefficients_ReproducesTheDraftShares()
    {
        // With M = 2 a share is s ⊕ a·x, so share 1 gives a = s ⊕ y1 = CD9F749585; share 2 must then follow.
        var shares = Shamir.Split(TssSecret, 2, 2, Convert.FromHexString("CD9F749585"));

        Assert.Equal(TssShare1, shares[0]);
        Assert.Equal(TssShare2, shares[1]);
    }

    [Fact]
    public void Split_HandCheckedPolynomial_GivesTheWorkedShares()
    {
        var shares = Shamir.Split(HandSecret, 3, 5, HandCoefficients);

        Assert.Equal(HandShares, shares.Select(Convert.ToHexString));
    }

    [Fact]
    public void Combine_HandCheckedShares_AnyThreeReturnTheSecret()
    {
        var shares = HandShares.Select(Convert.FromHexString).ToArray();

        foreach (var subset in Subsets(shares.Length, 3))
        {
            Assert.Equal(HandSecret, Shamir.Combine(subset.Select(i => (ReadOnlyMemory<byte>)shares[i]).ToArray()));
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 5)]
    [InlineData(4, 7)]
    [InlineData(5, 5)]
    public void Combine_AnyThresholdSubset_ReturnsSecret(int threshold, int shareCount)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, threshold, shareCount);

        foreach (var subset in Subsets(shareCount, threshold))
        {
            Assert.Equal(secret, Shamir.Combine(Pick(shares, subset)));
        }
    }

    [Fact]
    public void Combine_MoreThanThresholdShares_ReturnsSecret()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 3, 5);

        foreach (var subset in Subsets(5, 4).Concat(Subsets(5, 5)))
        {
            Assert.Equal(secret, Shamir.Combine(Pick(shares, subset)));
        }
    }

    [Fact]
    public void Combine_TwoOfTwoHundredFiftyFive_EveryPairWithTheFirstOrLastReturnsSecret()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 2, 255);

        // A sample of the 32 385 pairs: every pair that holds x = 1 or x = 255, and every adjacent pair.
        for (var i = 1; i < 255; i++)
        {
            Assert.Equal(secret, Shamir.Combine([shares[0], shares[i]]));
            Assert.Equal(secret, Shamir.Combine([shares[i - 1], shares[254]]));
            Assert.Equal(secret, Shamir.Combine([shares[i - 1], shares[i]]));
        }
    }

    [Fact]
    public void Combine_AllTwoHundredFiftyFiveShares_ReturnsSecret()
    {
        var secret = RandomNumberGenerator.GetBytes(4);
        var shares = Shamir.Split(secret, 255, 255);

        Assert.Equal(secret, Shamir.Combine(shares.Select(s => (ReadOnlyMemory<byte>)s).ToArray()));
    }

    [Fact]
    public void Combine_ThresholdMinusOneShares_GiveAnotherValueInEveryByte()
    {
        // Two points of f(x) = s ⊕ a·x ⊕ b·x² meet at 0 the line through them, which is off by b·x_i·x_j ≠ 0 when
        // b ≠ 0: both top coefficients of the hand-checked vector are non-zero, so no byte comes out right.
        var shares = HandShares.Select(Convert.FromHexString).ToArray();

        foreach (var subset in Subsets(shares.Length, 2))
        {
            var combined = Shamir.Combine(Pick(shares, subset));
            Assert.NotEqual(HandSecret[0], combined[0]);
            Assert.NotEqual(HandSecret[1], combined[1]);
        }
    }

    [Fact]
    public void Combine_ThresholdMinusOneRandomShares_GiveAnotherValue()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 4, 6);

        foreach (var subset in Subsets(6, 3))
        {
            Assert.NotEqual(secret, Shamir.Combine(Pick(shares, subset)));
        }
    }

    [Fact]
    public void Split_Shares_AreNumberedFromOneAndOneByteLongerThanTheSecret()
    {
        var shares = Shamir.Split(RandomNumberGenerator.GetBytes(17), 3, 7);

        Assert.Equal(7, shares.Length);
        Assert.Equal(Enumerable.Range(1, 7), shares.Select(s => (int)s[0]));
        Assert.All(shares, s => Assert.Equal(18, s.Length));
    }

    [Fact]
    public void Split_SameSecretTwice_GivesDifferentShares()
    {
        var secret = RandomNumberGenerator.GetBytes(32);

        Assert.NotEqual(Shamir.Split(secret, 2, 3)[0], Shamir.Split(secret, 2, 3)[0]);
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(0, 3)]
    [InlineData(4, 3)]
    [InlineData(2, 256)]
    public void Split_ThresholdOrShareCountOutOfRange_Throws(int threshold, int shareCount) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Shamir.Split(new byte[32], threshold, shareCount));

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void Split_SecretEmptyOrTooLong_Throws(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => Shamir.Split(new byte[length], 2, 3));

        Assert.StartsWith($"The secret must be 1 to 1024 bytes (got {length}).", ex.Message);
    }

    [Fact]
    public void Split_LongestSecret_RoundTrips()
    {
        var secret = RandomNumberGenerator.GetBytes(Shamir.MaxSecretLength);

        var shares = Shamir.Split(secret, 3, 3);

        Assert.Equal(secret, Shamir.Combine(shares.Select(s => (ReadOnlyMemory<byte>)s).ToArray()));
    }

    [Fact]
    public void Split_WrongNumberOfCoefficients_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Shamir.Split(HandSecret, 3, 5, new byte[3]));

        Assert.StartsWith("There must be 2 coefficients per secret byte, 4 in all (got 3).", ex.Message);
    }

    [Fact]
    public void Combine_Null_Throws() => Assert.Throws<ArgumentNullException>(() => Shamir.Combine(null!));

    [Fact]
    public void Combine_NoShare_IsRefused() =>
        AssertRefused([], "At least 2 shares are needed to combine (got 0).");

    [Fact]
    public void Combine_OneShare_IsRefused() =>
        AssertRefused([TssShare1], "At least 2 shares are needed to combine (got 1).");

    [Fact]
    public void Combine_SharesOfDifferentLengths_AreRefused() =>
        AssertRefused(
            [TssShare1, TssShare2.AsMemory(0, 5)],
            "shares[1] is 5 bytes long but shares[0] is 6: shares of one secret all have the same length, so these come from different splits or one is cut short.");

    [Fact]
    public void Combine_ShareWithoutYBytes_IsRefused() =>
        AssertRefused([TssShare1, new byte[] { 2 }], "shares[1] is 1 byte(s) long: a share is its x byte followed by at least one y byte.");

    [Fact]
    public void Combine_ShareLongerThanAnySplitMakes_IsRefused()
    {
        var tooLong = new byte[Shamir.MaxSecretLength + 2];
        tooLong[0] = 1;

        AssertRefused([tooLong, tooLong], "shares[0] is 1026 bytes long: a share is at most 1025 bytes (x and up to 1024 y bytes).");
    }

    [Fact]
    public void Combine_ShareWithXZero_IsRefused() =>
        AssertRefused(
            [TssShare1, Convert.FromHexString("00F5409B4511")],
            "shares[1] has x = 0, which no share has: the polynomial's value at 0 is the secret itself.");

    [Fact]
    public void Combine_SameXTwice_IsRefused() =>
        AssertRefused(
            [TssShare1, TssShare2, Convert.FromHexString("01F5409B4511")],
            "shares[0] and shares[2] have the same x: the same custodian's share was given twice.");

    [Fact]
    public void Combine_Refusals_NeverQuoteTheShareBytes()
    {
        byte[] distinctive = [0x07, 0xA5, 0xC3, 0xF0, 0x0D];
        byte[] zeroX = [0x00, 0xA5, 0xC3, 0xF0, 0x0D];
        ReadOnlyMemory<byte>[][] refused =
        [
            [distinctive],
            [distinctive, distinctive],
            [distinctive, zeroX],
            [distinctive, distinctive.AsMemory(0, 3)],
        ];

        foreach (var shares in refused)
        {
            var message = Assert.Throws<ArgumentException>(() => Shamir.Combine(shares)).Message;
            Assert.DoesNotContain("A5C3F00D", message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(distinctive[1..]), message, StringComparison.Ordinal);
            Assert.DoesNotContain("165", message, StringComparison.Ordinal);
        }
    }

    private static void AssertRefused(ReadOnlyMemory<byte>[] shares, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => Shamir.Combine(shares));
        Assert.Equal("shares", ex.ParamName);
        Assert.StartsWith(expected, ex.Message);
    }

    private static ReadOnlyMemory<byte>[] Pick(byte[][] shares, int[] subset) =>
        subset.Select(i => (ReadOnlyMemory<byte>)shares[i]).ToArray();

    /// <summary>Every subset of <paramref name="size"/> indices out of 0 … <paramref name="count"/> − 1 (count ≤ 16).</summary>
    private static IEnumerable<int[]> Subsets(int count, int size) =>
        Enumerable.Range(0, 1 << count)
            .Where(mask => BitOperations.PopCount((uint)mask) == size)
            .Select(mask => Enumerable.Range(0, count).Where(i => ((mask >> i) & 1) == 1).ToArray());
}
