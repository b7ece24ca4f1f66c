using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyWrap.Tests;

/// <summary>
/// Wrap format 3 (sealed by the HSM's root key) against a known answer and the software reference both ways. The
/// vector was computed once outside .NET (Python's <c>cryptography</c>: AES-ECB and <c>aes_key_wrap_with_padding</c>)
/// from the documented recipe, and the tests recompute it with .NET's AES-ECB and RFC 5649 primitives directly, not
/// through <see cref="SealedKey.SealWithRoot"/>.
/// </summary>
public sealed class SealedKeyTests
{
    private static readonly byte[] VectorRoot = [.. Enumerable.Range(0x00, 32).Select(i => (byte)i)];
    private static readonly byte[] VectorMaterial = [.. Enumerable.Range(0x40, 32).Select(i => (byte)i)];
    private const string VectorKeyId = "payments-db-2f1c";
    private const int VectorVersion = 3;
    private const int VectorRootVersion = 7;

    /// <summary>SHA-256 of <c>xks-proxy:sealed-key:payments-db-2f1c:v3:r7</c>.</summary>
    private const string VectorDerivationDataHex = "55e0bab445046893b0cf21e00f697c5ad8176d3166aa2691e94af47f986cb0da";

    /// <summary>AES-256-ECB of D under the root.</summary>
    private const string VectorWrappingKeyHex = "e6f1ee7d0b8bfbaf5f6fea152eb55dd3c0f2a1b1f9de88c71b06d6eea7f5a8d2";

    /// <summary>03 ‖ 07 ‖ RFC 5649 of the material under K_wrap.</summary>
    private const string VectorBlobHex = "0307" + "79801d945e928c356bafd50346c30c43b15250599d1080c3bb113c9ddf32cb5102642db37e4f060c";

    [Fact]
    public void Sizes_AreTheDocumentedOnes()
    {
        Assert.Equal((byte)0x03, SealedKey.FormatByte);
        Assert.Equal(40, SealedKey.WrappedSize);
        Assert.Equal(42, SealedKey.Size);
        Assert.Equal(56, SealedKey.Base64Length);
        Assert.Equal(40, Aes.GetKeyWrapPaddedLength(32));
    }

    [Fact]
    public void DerivationData_IsTheSha256OfTheLabel()
    {
        var independent = SHA256.HashData(Encoding.UTF8.GetBytes("xks-proxy:sealed-key:payments-db-2f1c:v3:r7"));

        Assert.Equal(VectorDerivationDataHex, Convert.ToHexStringLower(independent));
        Assert.Equal(VectorDerivationDataHex, Convert.ToHexStringLower(SealedKey.DerivationData(VectorKeyId, VectorVersion, VectorRootVersion)));
    }

    [Fact]
    public void KnownAnswer_NetPrimitivesDirectly_GiveTheVector()
    {
        using var root = Aes.Create();
        root.Key = VectorRoot;
        var wrappingKey = root.EncryptEcb(Convert.FromHexString(VectorDerivationDataHex), PaddingMode.None);
        using var wrapper = Aes.Create();
        wrapper.Key = wrappingKey;
        var wrapped = wrapper.EncryptKeyWrapPadded(VectorMaterial);

        Assert.Equal(VectorWrappingKeyHex, Convert.ToHexStringLower(wrappingKey));
        Assert.Equal(VectorBlobHex, "0307" + Convert.ToHexStringLower(wrapped));
    }

    [Fact]
    public void SealWithRoot_KnownAnswer_IsTheVector_AndTryUnsealWithRootOpensIt()
    {
        var sealedBlob = SealedKey.SealWithRoot(VectorRoot, VectorRootVersion, VectorKeyId, VectorVersion, VectorMaterial);
        var material = new byte[32];

        Assert.Equal(VectorBlobHex, Convert.ToHexStringLower(sealedBlob));
        Assert.True(SealedKey.TryUnsealWithRoot(VectorRoot, VectorKeyId, VectorVersion, Convert.FromHexString(VectorBlobHex), material));
        Assert.Equal(VectorMaterial, material);
    }

    [Fact]
    public void SealThenUnseal_RandomRootAndMaterial_RoundTrips()
    {
        var root = RandomNumberGenerator.GetBytes(32);
        var material = RandomNumberGenerator.GetBytes(32);
        var blob = SealedKey.SealWithRoot(root, 1, "orders", 12, material);
        var opened = new byte[32];

        Assert.Equal(42, blob.Length);
        Assert.True(SealedKey.IsSealed(blob));
        Assert.True(SealedKey.TryParse(blob, out var rootVersion, out var wrapped));
        Assert.Equal(1, rootVersion);
        Assert.Equal(40, wrapped.Length);
        Assert.True(SealedKey.TryUnsealWithRoot(root, "orders", 12, blob, opened));
        Assert.Equal(material, opened);
    }

    [Theory]
    [InlineData("another key id")]
    [InlineData("another version")]
    [InlineData("another root version")]
    [InlineData("another root")]
    [InlineData("a flipped wrapped byte")]
    [InlineData("a flipped first integrity byte")]
    public void TryUnsealWithRoot_BlobForSomethingElse_IsRefusedAndZeroesTheBuffer(string change)
    {
        var blob = Convert.FromHexString(VectorBlobHex);
        var (root, keyId, version) = (VectorRoot, VectorKeyId, VectorVersion);
        switch (change)
        {
            case "another key id":
                keyId = "payments-db-2f1d";
                break;
            case "another version":
                version = 4;
                break;
            case "another root version":
                blob[1] = 8;
                break;
            case "another root":
                root = RandomNumberGenerator.GetBytes(32);
                break;
            case "a flipped wrapped byte":
                blob[^1] ^= 0x01;
                break;
            default:
                blob[2] ^= 0x80;
                break;
        }

        var material = Enumerable.Repeat((byte)0xee, 32).ToArray();

        Assert.False(SealedKey.TryUnsealWithRoot(root, keyId, version, blob, material));
        Assert.All(material, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(0, "is not a sealed key: 0 bytes, not 42")]
    [InlineData(41, "is not a sealed key: 41 bytes, not 42")]
    [InlineData(43, "is not a sealed key: 43 bytes, not 42")]
    [InlineData(73, "is not a sealed key: 73 bytes, not 42")]
    public void TryParse_WrongLength_IsRefused(int length, string problem)
    {
        var blob = new byte[length];
        if (length > 1)
        {
            blob[0] = 0x03;
            blob[1] = 1;
        }

        Assert.False(SealedKey.TryParse(blob, out var rootVersion, out var wrapped));
        Assert.Equal(0, rootVersion);
        Assert.True(wrapped.IsEmpty);
        Assert.Equal(problem, SealedKey.Problem(blob));
        Assert.False(SealedKey.TryUnsealWithRoot(VectorRoot, VectorKeyId, VectorVersion, blob, new byte[32]));
    }

    [Fact]
    public void TryParse_WrongFormatByteOrRootVersionZero_IsRefused()
    {
        var otherFormat = Convert.FromHexString(VectorBlobHex);
        otherFormat[0] = 0x02;
        var rootZero = Convert.FromHexString(VectorBlobHex);
        rootZero[1] = 0;

        Assert.False(SealedKey.TryParse(otherFormat, out _, out _));
        Assert.False(SealedKey.IsSealed(otherFormat));
        Assert.Equal("is not a sealed key: its first byte is 0x02, not the format-3 marker 0x03", SealedKey.Problem(otherFormat));
        Assert.False(SealedKey.TryParse(rootZero, out _, out _));
        Assert.Equal("is not a sealed key: its root version is 0 (versions start at 1)", SealedKey.Problem(rootZero));
        Assert.Null(SealedKey.Problem(Convert.FromHexString(VectorBlobHex)));
        Assert.False(SealedKey.IsSealed([]));
    }

    [Theory]
    [InlineData(0, 40)]
    [InlineData(256, 40)]
    [InlineData(-1, 40)]
    [InlineData(1, 39)]
    [InlineData(1, 41)]
    [InlineData(1, 0)]
    public void Compose_RootVersionOutOfRangeOrWrongWrappedSize_Throws(int rootVersion, int wrappedLength) =>
        Assert.Throws<ArgumentException>(() => SealedKey.Compose(rootVersion, new byte[wrappedLength]));

    [Theory]
    [InlineData(1)]
    [InlineData(255)]
    public void Compose_EdgeRootVersions_WriteTheByte(int rootVersion)
    {
        var wrapped = RandomNumberGenerator.GetBytes(40);

        var blob = SealedKey.Compose(rootVersion, wrapped);

        Assert.Equal([0x03, (byte)rootVersion, .. wrapped], blob);
        Assert.True(SealedKey.TryParse(blob, out var parsed, out _));
        Assert.Equal(rootVersion, parsed);
    }

    [Fact]
    public void SealWithRoot_BadArguments_Throw()
    {
        var material = new byte[32];
        Assert.Throws<ArgumentException>(() => SealedKey.SealWithRoot(new byte[31], 1, "k", 1, material));
        Assert.Throws<ArgumentException>(() => SealedKey.SealWithRoot(VectorRoot, 1, "k", 1, new byte[16]));
        Assert.Throws<ArgumentException>(() => SealedKey.SealWithRoot(VectorRoot, 0, "k", 1, material));
        Assert.ThrowsAny<ArgumentException>(() => SealedKey.SealWithRoot(VectorRoot, 1, "", 1, material));
        Assert.ThrowsAny<ArgumentException>(() => SealedKey.SealWithRoot(VectorRoot, 1, "k", 0, material));
    }

    [Fact]
    public void MasterKeyRing_SealedBlob_IsMalformedAndSaysItIsSealedByTheHsm()
    {
        using var ring = MasterKeyRing.Single(RandomNumberGenerator.GetBytes(32));
        var material = new byte[32];

        var outcome = ring.TryUnwrap(VectorKeyId, VectorVersion, Convert.ToBase64String(Convert.FromHexString(VectorBlobHex)), material, out var problem);

        Assert.Equal(UnwrapOutcome.Malformed, outcome);
        Assert.StartsWith("is sealed by the HSM (format 3), not wrapped by a master key", problem, StringComparison.Ordinal);
        Assert.False(WrappedKey.IsWellFormed(Convert.ToBase64String(Convert.FromHexString(VectorBlobHex))));
    }
}
