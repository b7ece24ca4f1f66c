using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyWrap.Tests;

/// <summary>Wrap format 4 (<see cref="DerivedKey"/>) and its derivation through <see cref="MasterKeyRing.TryDerive(string, int, ReadOnlySpan{byte}, Span{byte}, out UnwrapOutcome)"/>.</summary>
public sealed class DerivedKeyTests
{
    /// <summary>Root bytes 00..1f, salt a0..bf.</summary>
    private static readonly byte[] KnownRoot = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    private static readonly byte[] KnownSalt = [.. Enumerable.Range(0xa0, 32).Select(i => (byte)i)];

    /// <summary>
    /// HKDF-SHA256(ikm = root 00..1f, salt = a0..bf, info = "xks-proxy:derived-key:orders-2026:v2:r3", 32 bytes), computed
    /// with Python's hmac and hashlib (RFC 5869 extract, then one expand block).
    /// </summary>
    private const string KnownKey = "99668d0eb446ab8dedcd4c3a38824249d1925a54cc65798540ef80081fe8c763";

    private static byte[] KnownBlob(int rootVersion = 3) => [DerivedKey.FormatByte, (byte)rootVersion, .. KnownSalt];

    /// <summary>RFC 5869 written out with HMAC-SHA256 alone, independent of <see cref="HKDF"/>.</summary>
    private static byte[] Hkdf(byte[] ikm, byte[] salt, string info)
    {
        var prk = HMACSHA256.HashData(salt, ikm);
        byte[] block = [.. Encoding.UTF8.GetBytes(info), 0x01];
        return HMACSHA256.HashData(prk, block);
    }

    private static MasterKeyRing RingOf(params (int Version, byte[] Key)[] roots) =>
        new(roots.Select(r => new MasterKeyRoot(r.Version, r.Key)), roots[^1].Version);

    [Fact]
    public void TryDerive_KnownVector_GivesTheKeyComputedIndependently()
    {
        using var ring = RingOf((3, KnownRoot));
        var key = new byte[32];

        Assert.True(ring.TryDerive("orders-2026", 2, KnownBlob(), key, out var outcome));

        Assert.Equal(UnwrapOutcome.Ok, outcome);
        Assert.Equal(KnownKey, Convert.ToHexStringLower(key));
        Assert.Equal(Hkdf(KnownRoot, KnownSalt, "xks-proxy:derived-key:orders-2026:v2:r3"), key);
    }

    [Fact]
    public void TryDeriveWithRoot_KnownVector_AgreesWithTheRing()
    {
        var key = new byte[32];

        Assert.True(DerivedKey.TryDeriveWithRoot(KnownRoot, "orders-2026", 2, KnownBlob(), key));

        Assert.Equal(KnownKey, Convert.ToHexStringLower(key));
    }

    [Fact]
    public void TryDerive_AnotherKeyIdVersionOrRootVersion_DerivesAnotherKey()
    {
        var otherRoot = RandomNumberGenerator.GetBytes(32);
        using var ring = RingOf((3, KnownRoot), (4, otherRoot));
        var keys = new List<string>();
        foreach (var (keyId, version, blob) in new[]
        {
            ("orders-2026", 2, KnownBlob()),
            ("orders-2027", 2, KnownBlob()),
            ("orders-2026", 3, KnownBlob()),
            ("orders-2026", 2, KnownBlob(rootVersion: 4)),
        })
        {
            var key = new byte[32];
            Assert.True(ring.TryDerive(keyId, version, blob, key, out _));
            keys.Add(Convert.ToHexStringLower(key));
        }

        Assert.Equal(KnownKey, keys[0]);
        Assert.Equal(4, keys.Distinct().Count());
        Assert.Equal(Convert.ToHexStringLower(Hkdf(otherRoot, KnownSalt, "xks-proxy:derived-key:orders-2026:v2:r4")), keys[3]);
    }

    [Fact]
    public void Create_DrawsAFreshSaltEachTime_AndNamesTheRootVersion()
    {
        var first = DerivedKey.Create(7);
        var second = DerivedKey.Create(7);

        Assert.Equal(DerivedKey.Size, first.Length);
        Assert.Equal([DerivedKey.FormatByte, 7], first[..2]);
        Assert.NotEqual(first, second);
        Assert.True(DerivedKey.TryParse(first, out var rootVersion, out var salt));
        Assert.Equal(7, rootVersion);
        Assert.Equal(first[2..], salt.ToArray());
        Assert.Equal(DerivedKey.Base64Length, DerivedKey.CreateBase64(1).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(-1)]
    public void Create_RootVersionOutsideOneTo255_IsRefused(int rootVersion) =>
        Assert.Contains("root version is 1 to 255", Assert.Throws<ArgumentException>(() => DerivedKey.Create(rootVersion)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData(33, 0x04, 1, "is not a derived key: 33 bytes, not 34")]
    [InlineData(35, 0x04, 1, "is not a derived key: 35 bytes, not 34")]
    [InlineData(0, 0x04, 1, "is not a derived key: 0 bytes, not 34")]
    [InlineData(34, 0x03, 1, "is not a derived key: its first byte is 0x03, not the format-4 marker 0x04")]
    [InlineData(34, 0x04, 0, "is not a derived key: its root version is 0 (versions start at 1)")]
    public void TryDerive_MalformedBlob_IsRefusedAsMalformed_WithTheReason(int length, byte first, byte rootVersion, string expected)
    {
        var blob = new byte[length];
        if (length >= 2)
        {
            (blob[0], blob[1]) = (first, rootVersion);
        }

        using var ring = RingOf((1, KnownRoot));
        var key = new byte[32];
        key.AsSpan().Fill(0xee);

        Assert.False(ring.TryDerive("k", 1, blob, key, out var outcome, out var problem));

        Assert.Equal(UnwrapOutcome.Malformed, outcome);
        Assert.Equal(expected, problem);
        Assert.Equal(expected, DerivedKey.Problem(blob));
        Assert.All(key, b => Assert.Equal(0, b));
        Assert.False(DerivedKey.TryParse(blob, out _, out _));
    }

    [Fact]
    public void TryDerive_RootVersionNotInTheRing_IsUnknownRootVersion()
    {
        using var ring = RingOf((1, KnownRoot), (2, RandomNumberGenerator.GetBytes(32)));
        var key = new byte[32];

        Assert.False(ring.TryDerive("k", 1, KnownBlob(rootVersion: 3), key, out var outcome, out var problem));

        Assert.Equal(UnwrapOutcome.UnknownRootVersion, outcome);
        Assert.Equal("is derived from root key version 3, which is not in the ring (it holds versions 1, 2)", problem);
    }

    [Fact]
    public void TryUnwrap_DerivedBlob_SaysItIsDerivedNotWrapped()
    {
        using var ring = RingOf((1, KnownRoot));
        var material = new byte[32];

        var outcome = ring.TryUnwrap("k", 1, Convert.ToBase64String(KnownBlob(rootVersion: 1)), material, out var problem);

        Assert.Equal(UnwrapOutcome.Malformed, outcome);
        Assert.Equal("is derived from a Shamir root key (format 4), not wrapped by a master key: only an unsealed proxy derives it (backend.software.shamir)", problem);
        Assert.False(WrappedKey.IsWellFormed(Convert.ToBase64String(KnownBlob())));
    }

    [Fact]
    public void TryDecode_Base64OfADerivedBlob_IsRecognised_AndOtherFormatsAreNot()
    {
        var blob = new byte[DerivedKey.Size + 3];

        Assert.True(DerivedKey.TryDecode(Convert.ToBase64String(KnownBlob()), blob, out var length));
        Assert.Equal(KnownBlob(), blob[..length]);
        Assert.False(DerivedKey.TryDecode(Convert.ToBase64String(new byte[34]), blob, out _));
        Assert.False(DerivedKey.TryDecode(Convert.ToBase64String(new byte[42]), blob, out _));
        Assert.False(DerivedKey.TryDecode(null, blob, out _));
    }

    [Fact]
    public void TryDerive_DisposedRing_Throws()
    {
        var ring = RingOf((1, KnownRoot));
        ring.Dispose();

        Assert.Throws<ObjectDisposedException>(() => ring.TryDerive("k", 1, KnownBlob(1), new byte[32], out _));
    }
}
