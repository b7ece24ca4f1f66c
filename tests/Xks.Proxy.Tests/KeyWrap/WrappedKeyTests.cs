using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;

namespace Xks.Contracts.KeyWrap.Tests;

/// <summary>
/// The wrap format against known answers. The vectors were computed once outside .NET (Python's <c>cryptography</c>
/// AESGCM and <c>hmac</c>) from the documented recipe, and the tests recompute them with <see cref="AesGcm"/> and
/// <see cref="HMACSHA256"/> directly (<see cref="WrappedKeyVersions"/>), so neither side is checked only against itself.
/// </summary>
public sealed class WrappedKeyTests
{
    /// <summary>Root key 00 01 … 1f.</summary>
    internal static readonly byte[] VectorRootKey = [.. Enumerable.Range(0x00, 32).Select(i => (byte)i)];

    /// <summary>Key material 40 41 … 5f.</summary>
    internal static readonly byte[] VectorMaterial = [.. Enumerable.Range(0x40, 32).Select(i => (byte)i)];

    /// <summary>IV a0 a1 … ab.</summary>
    internal static readonly byte[] VectorIv = [.. Enumerable.Range(0xa0, 12).Select(i => (byte)i)];

    internal const string VectorKeyId = "payments-db-2f1c";
    internal const int VectorVersion = 3;

    /// <summary>Root version 258 (00 00 01 02), so the byte order shows.</summary>
    internal const int VectorRootVersion = 258;

    internal const string VectorKeyCheckValue = "733a280640e729ca";

    /// <summary>Format 2: 02 ‖ 00000102 ‖ kcv ‖ iv ‖ wrapped key ‖ tag, AAD <c>xks-proxy:key:payments-db-2f1c:v3:r258</c>.</summary>
    internal const string VectorFormat2Hex =
        "02" + "00000102" + "733a280640e729ca" + "a0a1a2a3a4a5a6a7a8a9aaab"
        + "a6593e6e018e44f82a2ccd984b378e9120fd0b43c6e2143bc4577cdd23f62b5e"
        + "e133d894ab2612083869feb98b445177";

    /// <summary>Format 1: iv ‖ wrapped key ‖ tag, AAD <c>xks-proxy:key:payments-db-2f1c:v3</c> (as existing documents hold).</summary>
    internal const string VectorFormat1Base64 = "oKGio6Slpqeoqaqrplk+bgGORPgqLM2YSzeOkSD9C0PG4hQ7xFd83SP2K16OKS8bnHhz0yXeXsq0VTYR";

    [Fact]
    public void Sizes_AreTheDocumentedOnes()
    {
        Assert.Equal(60, WrappedKey.Format1Size);
        Assert.Equal(73, WrappedKey.Format2Size);
        Assert.Equal(13, WrappedKey.Format2HeaderSize);
        Assert.Equal(80, WrappedKey.Format1Base64Length);
        Assert.Equal(100, WrappedKey.Format2Base64Length);
        Assert.Equal(100, Convert.ToBase64String(new byte[73]).Length);
    }

    [Fact]
    public void KeyCheckValue_IsTheFirst8BytesOfTheHmacOfTheLabel()
    {
        var independent = Convert.ToHexStringLower(HMACSHA256.HashData(VectorRootKey, "xks-proxy:key-check-value:v1"u8)[..8]);

        Assert.Equal(VectorKeyCheckValue, independent);
        Assert.Equal(VectorKeyCheckValue, WrappedKey.KeyCheckValue(VectorRootKey));
        var random = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(Convert.ToHexStringLower(WrappedKeyVersions.KeyCheckValue(random)), WrappedKey.KeyCheckValue(random));
    }

    [Fact]
    public void KeyCheckValue_OfAKeyThatIsNot32Bytes_Throws() =>
        Assert.Throws<ArgumentException>(() => WrappedKey.KeyCheckValue(new byte[31]));

    [Fact]
    public void Format2Vector_IsWhatTheDocumentedRecipeGives()
    {
        var independent = WrappedKeyVersions.WrapFormat2Bytes(VectorRootKey, VectorKeyId, VectorVersion, VectorMaterial, VectorRootVersion, VectorIv);

        Assert.Equal(VectorFormat2Hex, Convert.ToHexStringLower(independent));
    }

    [Fact]
    public void Wrap_WithTheVectorsIv_GivesExactlyTheFormat2Vector()
    {
        using var ring = MasterKeyRing.Single(VectorRootKey, VectorRootVersion);

        var wrapped = ring.Wrap(VectorKeyId, VectorVersion, VectorMaterial, VectorIv);

        Assert.Equal(VectorFormat2Hex, Convert.ToHexStringLower(Convert.FromBase64String(wrapped)));
    }

    [Fact]
    public void TryUnwrap_Format2Vector_GivesTheVectorsMaterial()
    {
        using var ring = MasterKeyRing.Single(VectorRootKey, VectorRootVersion);
        var material = new byte[32];

        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap(VectorKeyId, VectorVersion, Convert.ToBase64String(Convert.FromHexString(VectorFormat2Hex)), material));
        Assert.Equal(VectorMaterial, material);
    }

    [Fact]
    public void TryUnwrap_Format1Vector_StillUnwrapsUnderMasterKeyVersion1()
    {
        using var ring = MasterKeyRing.Single(VectorRootKey);
        var material = new byte[32];

        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap(VectorKeyId, VectorVersion, VectorFormat1Base64, material));
        Assert.Equal(VectorMaterial, material);
        Assert.True(ring.NeedsRewrap(VectorFormat1Base64));
    }

    [Fact]
    public void TryUnwrap_Format1FromTheIndependentRecipe_Unwraps()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var expected = RandomNumberGenerator.GetBytes(32);
        using var ring = MasterKeyRing.Single(rootKey);
        var material = new byte[32];

        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap("k", 7, WrappedKeyVersions.WrapFormat1(rootKey, "k", 7, expected), material));
        Assert.Equal(expected, material);
    }

    public static TheoryData<string, string?, bool> Shapes => new()
    {
        { "format 1 (60 bytes)", Convert.ToBase64String(new byte[60]), true },
        { "format 2 (73 bytes, marker 0x02, master key version 1)", Convert.ToBase64String([0x02, 0, 0, 0, 1, .. new byte[68]]), true },
        { "format 2 with master key version 0", Convert.ToBase64String([0x02, 0, 0, 0, 0, .. new byte[68]]), false },
        { "73 bytes without the marker", Convert.ToBase64String([0x01, 0, 0, 0, 1, .. new byte[68]]), false },
        { "59 bytes", Convert.ToBase64String(new byte[59]), false },
        { "61 bytes", Convert.ToBase64String(new byte[61]), false },
        { "74 bytes", Convert.ToBase64String([0x02, 0, 0, 0, 1, .. new byte[69]]), false },
        { "far too long", Convert.ToBase64String(new byte[200]), false },
        { "not Base64", "not base64 at all!", false },
        { "empty", "", false },
        { "null", null, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void IsWellFormed_ChecksTheShapeOnly(string shape, string? wrapped, bool expected) =>
        Assert.True(WrappedKey.IsWellFormed(wrapped) == expected, shape);
}
