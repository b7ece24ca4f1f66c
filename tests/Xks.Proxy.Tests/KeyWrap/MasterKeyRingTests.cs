using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Xks.Proxy.Tests.Support;

namespace Xks.Contracts.KeyWrap.Tests;

public sealed class MasterKeyRingTests
{
    private readonly byte[] _root1 = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _root2 = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _material = RandomNumberGenerator.GetBytes(32);

    private MasterKeyRing Ring(int current, params int[] versions) =>
        new(versions.Select(v => new MasterKeyRoot(v, v == 1 ? _root1 : _root2)), current);

    [Fact]
    public void Wrap_ThenTryUnwrap_RoundTripsTheMaterial()
    {
        using var ring = MasterKeyRing.Single(_root1);
        var material = new byte[32];

        var wrapped = ring.Wrap("k", 1, _material);

        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap("k", 1, wrapped, material, out var problem));
        Assert.Equal(_material, material);
        Assert.Null(problem);
        Assert.True(ring.CanUnwrap("k", 1, wrapped));
    }

    [Fact]
    public void Wrap_WritesFormat2UnderTheCurrentVersion_ThatTheDocumentedRecipeOpens()
    {
        using var ring = Ring(2, 1, 2);

        var blob = Convert.FromBase64String(ring.Wrap("team-a-payments-db-2f1c", 5, _material));

        Assert.Equal(73, blob.Length);
        Assert.Equal(0x02, blob[0]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(1, 4)));
        Assert.Equal(WrappedKeyVersions.KeyCheckValue(_root2), blob[5..13]);
        Assert.Equal(ring.KeyCheckValue(2), Convert.ToHexStringLower(blob[5..13]));
        var material = new byte[32];
        using var gcm = new AesGcm(_root2, 16);
        gcm.Decrypt(blob.AsSpan(13, 12), blob.AsSpan(25, 32), blob.AsSpan(57, 16), material, Encoding.UTF8.GetBytes("xks-proxy:key:team-a-payments-db-2f1c:v5:r2"));
        Assert.Equal(_material, material);
    }

    [Fact]
    public void Wrap_Twice_UsesFreshIvs()
    {
        using var ring = MasterKeyRing.Single(_root1);

        var first = Convert.FromBase64String(ring.Wrap("k", 1, _material));
        var second = Convert.FromBase64String(ring.Wrap("k", 1, _material));

        Assert.Equal(first[..13], second[..13]);
        Assert.NotEqual(first[13..25], second[13..25]);
    }

    [Fact]
    public void Wrap_BadArguments_Throw()
    {
        using var ring = MasterKeyRing.Single(_root1);

        Assert.Throws<ArgumentException>(() => ring.Wrap("k", 1, new byte[31]));
        Assert.Throws<ArgumentException>(() => ring.Wrap("", 1, _material));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Wrap("k", 0, _material));
        Assert.Throws<ArgumentException>(() => ring.TryUnwrap("k", 1, ring.Wrap("k", 1, _material), new byte[16]));
    }

    public static TheoryData<string, UnwrapOutcome, string> Damage => new()
    {
        { "master key version changed to one the ring lacks", UnwrapOutcome.UnknownRootVersion, "is wrapped under master key version 9, which is not in the ring (it holds versions 1, 2)" },
        { "master key version changed to another one the ring holds", UnwrapOutcome.IntegrityFailure, "fails its integrity check: it names master key version 2 but carries the key-check value of master key version 1 (its master key version was changed)" },
        { "wrapped by another master key claiming the same version", UnwrapOutcome.KeyCheckMismatch, "was wrapped under another master key that also claims version 1 (key-check value " },
        { "tag flipped", UnwrapOutcome.IntegrityFailure, "fails its integrity check under master key version 1 (corrupted, tampered, or moved from another key id or version)" },
        { "wrapped key flipped", UnwrapOutcome.IntegrityFailure, "fails its integrity check under master key version 1" },
        { "IV flipped", UnwrapOutcome.IntegrityFailure, "fails its integrity check under master key version 1" },
        { "moved to another key id", UnwrapOutcome.IntegrityFailure, "fails its integrity check under master key version 1" },
        { "moved to another version", UnwrapOutcome.IntegrityFailure, "fails its integrity check under master key version 1" },
        { "AAD of another master key version", UnwrapOutcome.IntegrityFailure, "fails its integrity check under master key version 1" },
        { "truncated by one byte", UnwrapOutcome.Malformed, "is not a wrapped key: 72 bytes, not 60 (format 1) or 73 (format 2)" },
        { "format-2 marker changed", UnwrapOutcome.Malformed, "is not a wrapped key: 73 bytes but the first is 0x03, not the format-2 marker 0x02" },
        { "master key version 0", UnwrapOutcome.Malformed, "is not a wrapped key: its master key version is 0 (versions start at 1)" },
        { "garbage", UnwrapOutcome.Malformed, "is not a wrapped key: not Base64 of 60 bytes (format 1) or 73 bytes (format 2)" },
        { "empty", UnwrapOutcome.Malformed, "is not a wrapped key: it is empty" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void TryUnwrap_DamagedOrMisplacedBlob_ReportsItsOutcome_AndLeavesNoMaterial(string damage, UnwrapOutcome expected, string problemStart)
    {
        using var ring = Ring(1, 1, 2);
        var good = ring.Wrap("k", 1, _material);
        var (keyId, version, blob) = damage switch
        {
            "master key version changed to one the ring lacks" => ("k", 1, WrappedKeyVersions.Flip(good, 4, 0x08)),
            "master key version changed to another one the ring holds" => ("k", 1, WrappedKeyVersions.Flip(good, 4, 0x03)),
            "wrapped by another master key claiming the same version" => ("k", 1, WrappedKeyVersions.Wrap(RandomNumberGenerator.GetBytes(32), "k", 1)),
            "tag flipped" => ("k", 1, WrappedKeyVersions.Flip(good, ^1)),
            "wrapped key flipped" => ("k", 1, WrappedKeyVersions.Tamper(good)),
            "IV flipped" => ("k", 1, WrappedKeyVersions.Flip(good, 13)),
            "moved to another key id" => ("other", 1, good),
            "moved to another version" => ("k", 2, good),
            "AAD of another master key version" => ("k", 1, AadOfRootVersion2UnderRoot1()),
            "truncated by one byte" => ("k", 1, Convert.ToBase64String(Convert.FromBase64String(good)[..^1])),
            "format-2 marker changed" => ("k", 1, WrappedKeyVersions.Flip(good, 0)),
            "master key version 0" => ("k", 1, WrappedKeyVersions.Flip(good, 4)),
            "garbage" => ("k", 1, "not base64 at all!"),
            _ => ("k", 1, ""),
        };
        var material = RandomNumberGenerator.GetBytes(32);

        var outcome = ring.TryUnwrap(keyId, version, blob, material, out var problem);

        Assert.Equal(expected, outcome);
        Assert.StartsWith(problemStart, problem, StringComparison.Ordinal);
        Assert.Equal(new byte[32], material);

        Assert.False(ring.CanUnwrap(keyId, version, blob));
        foreach (var secret in new[] { _root1, _root2, _material })
        {
            Assert.DoesNotContain(Convert.ToHexString(secret), problem!, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(secret), problem!, StringComparison.Ordinal);
        }

        if (blob.Length > 0)
        {
            Assert.DoesNotContain(blob, problem!, StringComparison.Ordinal);
        }
    }

    /// <summary>A format-2 blob whose header says master key version 1 but whose AAD names version 2.</summary>
    private string AadOfRootVersion2UnderRoot1()
    {
        var blob = WrappedKeyVersions.WrapFormat2Bytes(_root1, "k", 1, _material, rootVersion: 2, RandomNumberGenerator.GetBytes(12));
        blob[4] = 1;
        return Convert.ToBase64String(blob);
    }

    [Fact]
    public void TryUnwrap_BlobFromAnotherRootWithSameVersion_ReportsKeyCheckMismatch_NamingBothKeyCheckValues()
    {
        var other = RandomNumberGenerator.GetBytes(32);
        using var ring = MasterKeyRing.Single(_root1);

        var outcome = ring.TryUnwrap("k", 1, WrappedKeyVersions.Wrap(other, "k", 1), new byte[32], out var problem);

        Assert.Equal(UnwrapOutcome.KeyCheckMismatch, outcome);
        Assert.Equal(
            $"was wrapped under another master key that also claims version 1 (key-check value {WrappedKey.KeyCheckValue(other)}; this ring's master key version 1 has {WrappedKey.KeyCheckValue(_root1)})",
            problem);
    }

    [Fact]
    public void TryUnwrap_Format1WithoutMasterKeyVersion1_IsUnknownRootVersion()
    {
        using var ring = MasterKeyRing.Single(_root2, rootVersion: 2);

        var outcome = ring.TryUnwrap("k", 1, WrappedKeyVersions.WrapFormat1(_root2, "k", 1), new byte[32], out var problem);

        Assert.Equal(UnwrapOutcome.UnknownRootVersion, outcome);
        Assert.Equal("is in format 1, which unwraps under master key version 1 only, and the ring holds version 2", problem);
    }

    [Fact]
    public void TryUnwrap_Format1UnderAnotherMasterKey_IsAnIntegrityFailure_ThatSaysFormat1HasNoKeyCheckValue()
    {
        using var ring = MasterKeyRing.Single(_root1);

        var outcome = ring.TryUnwrap("k", 1, WrappedKeyVersions.WrapFormat1(_root2, "k", 1), new byte[32], out var problem);

        Assert.Equal(UnwrapOutcome.IntegrityFailure, outcome);
        Assert.Contains("format 1 carries no key-check value", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryUnwrap_EveryRootVersionOfTheRing_Unwraps()
    {
        using var ring = Ring(2, 1, 2);
        var material = new byte[32];

        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap("k", 1, WrappedKeyVersions.Wrap(_root1, "k", 1, _material, rootVersion: 1), material));
        Assert.Equal(_material, material);
        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap("k", 1, WrappedKeyVersions.WrapFormat1(_root1, "k", 1, _material), material));
        Assert.Equal(UnwrapOutcome.Ok, ring.TryUnwrap("k", 1, WrappedKeyVersions.Wrap(_root2, "k", 1, _material, rootVersion: 2), material));
        Assert.Equal(_material, material);
    }

    [Fact]
    public void Constructor_RecordedKeyCheckValueOfAnotherKey_RefusesToBuild()
    {
        var recorded = WrappedKey.KeyCheckValue(_root2);

        var ex = Assert.Throws<CryptographicException>(() => MasterKeyRing.Single(_root1, 1, recorded));

        Assert.Equal(
            $"Master key version 1: this is not the master key the keyring recorded (its key-check value is {WrappedKey.KeyCheckValue(_root1)}, the keyring recorded {recorded}).",
            ex.Message);
    }

    [Fact]
    public void Constructor_RecordedKeyCheckValuesThatMatch_Build_InEitherCase()
    {
        using var ring = new MasterKeyRing(
            [new MasterKeyRoot(1, _root1, WrappedKey.KeyCheckValue(_root1).ToUpperInvariant()), new MasterKeyRoot(2, _root2, WrappedKey.KeyCheckValue(_root2))],
            currentVersion: 2);

        Assert.Equal([1, 2], ring.Versions);
        Assert.Equal(2, ring.CurrentVersion);
        Assert.Equal(WrappedKey.KeyCheckValue(_root1), ring.KeyCheckValue(1));
    }

    public static TheoryData<string, string> BadRings => new()
    {
        { "no master key", "A master-key ring needs at least one master key." },
        { "version 0", "Master key versions start at 1 (got 0)." },
        { "a version listed twice", "Master key version 1 is listed twice." },
        { "a key of 16 bytes", "The master key must be 32 bytes (got 16)." },
        { "one key under two versions", "Master key versions 1 and 2 are the same key." },
        { "a current version the ring lacks", "The current master key version 3 is not in the ring (it holds versions 1, 2)." },
        { "a recorded key-check value that is not hex", "The recorded key-check value of master key version 1 must be 16 hex digits." },
        { "a recorded key-check value that is too short", "The recorded key-check value of master key version 1 must be 16 hex digits." },
    };

    [Theory]
    [MemberData(nameof(BadRings))]
    public void Constructor_BadRoots_Refuse(string bad, string message)
    {
        var (roots, current) = bad switch
        {
            "no master key" => ((MasterKeyRoot[])[], 1),
            "version 0" => ([new MasterKeyRoot(0, _root1)], 0),
            "a version listed twice" => ([new MasterKeyRoot(1, _root1), new MasterKeyRoot(1, _root2)], 1),
            "a key of 16 bytes" => ([new MasterKeyRoot(1, new byte[16])], 1),
            "one key under two versions" => ([new MasterKeyRoot(1, _root1), new MasterKeyRoot(2, _root1.ToArray())], 2),
            "a current version the ring lacks" => ([new MasterKeyRoot(1, _root1), new MasterKeyRoot(2, _root2)], 3),
            "a recorded key-check value that is not hex" => ([new MasterKeyRoot(1, _root1, "zz3a280640e729ca")], 1),
            _ => ([new MasterKeyRoot(1, _root1, "733a2806")], 1),
        };

        var ex = Assert.ThrowsAny<ArgumentException>(() => new MasterKeyRing(roots, current));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rewrap_FromMasterKeyVersion1To2_UnwrapsWithARingThatOnlyHasVersion2()
    {
        using var old = MasterKeyRing.Single(_root1);
        var underRoot1 = old.Wrap("k", 4, _material);
        var format1 = WrappedKeyVersions.WrapFormat1(_root1, "k", 5, _material);
        using var rotating = Ring(2, 1, 2);
        using var only2 = MasterKeyRing.Single(_root2, rootVersion: 2);
        var material = new byte[32];

        var rewrapped = rotating.Rewrap("k", 4, underRoot1);
        var rewrappedFormat1 = rotating.Rewrap("k", 5, format1);

        Assert.Equal(UnwrapOutcome.UnknownRootVersion, only2.TryUnwrap("k", 4, underRoot1, material));
        Assert.Equal(UnwrapOutcome.Ok, only2.TryUnwrap("k", 4, rewrapped, material));
        Assert.Equal(_material, material);
        Assert.Equal(UnwrapOutcome.Ok, only2.TryUnwrap("k", 5, rewrappedFormat1, material));
        Assert.Equal(_material, material);
        Assert.False(rotating.NeedsRewrap(rewrapped));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(Convert.FromBase64String(rewrapped).AsSpan(1, 4)));
    }

    [Fact]
    public void Rewrap_BlobThatDoesNotUnwrap_ThrowsWithItsOutcome()
    {
        using var ring = Ring(2, 1, 2);
        var wrapped = ring.Wrap("k", 1, _material);

        var moved = Assert.Throws<UnwrapException>(() => ring.Rewrap("k", 2, wrapped));
        var foreign = Assert.Throws<UnwrapException>(() => ring.Rewrap("k", 1, WrappedKeyVersions.Wrap(RandomNumberGenerator.GetBytes(32), "k", 1)));

        Assert.Equal(UnwrapOutcome.IntegrityFailure, moved.Outcome);
        Assert.StartsWith("key 'k' version 2 fails its integrity check under master key version 2", moved.Message, StringComparison.Ordinal);
        Assert.Equal(UnwrapOutcome.KeyCheckMismatch, foreign.Outcome);
    }

    [Theory]
    [InlineData("format 1", 1, true)]
    [InlineData("format 2 under version 1", 1, false)]
    [InlineData("format 1", 2, true)]
    [InlineData("format 2 under version 1", 2, true)]
    [InlineData("format 2 under version 2", 2, false)]
    [InlineData("format 2 under version 3 (not in the ring)", 2, true)]
    public void NeedsRewrap_IsTrueForAnythingNotUnderTheCurrentVersion(string blob, int current, bool expected)
    {
        using var ring = Ring(current, 1, 2);
        var wrapped = blob switch
        {
            "format 1" => WrappedKeyVersions.WrapFormat1(_root1, "k", 1),
            "format 2 under version 1" => WrappedKeyVersions.Wrap(_root1, "k", 1, rootVersion: 1),
            "format 2 under version 2" => WrappedKeyVersions.Wrap(_root2, "k", 1, rootVersion: 2),
            _ => WrappedKeyVersions.Wrap(RandomNumberGenerator.GetBytes(32), "k", 1, rootVersion: 3),
        };

        Assert.Equal(expected, ring.NeedsRewrap(wrapped));
    }

    [Fact]
    public void NeedsRewrap_MalformedBlob_Throws()
    {
        using var ring = MasterKeyRing.Single(_root1);

        var ex = Assert.Throws<UnwrapException>(() => ring.NeedsRewrap(Convert.ToBase64String(new byte[61])));

        Assert.Equal(UnwrapOutcome.Malformed, ex.Outcome);
        Assert.Equal("The wrapped key is not a wrapped key: 61 bytes, not 60 (format 1) or 73 (format 2).", ex.Message);
    }

    [Fact]
    public void KeyCheckValue_VersionNotInTheRing_Throws()
    {
        using var ring = MasterKeyRing.Single(_root1);

        Assert.Throws<ArgumentOutOfRangeException>(() => ring.KeyCheckValue(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.KeyCheckValue(0));
    }

    [Fact]
    public void Dispose_ZeroesTheKeys_AndEveryLaterUseThrows()
    {
        var ring = Ring(2, 1, 2);
        var wrapped = ring.Wrap("k", 1, _material);
        Assert.False(ring.KeysAreZeroed);

        ring.Dispose();

        Assert.True(ring.KeysAreZeroed);
        Assert.Throws<ObjectDisposedException>(() => ring.Wrap("k", 1, _material));
        Assert.Throws<ObjectDisposedException>(() => ring.TryUnwrap("k", 1, wrapped, new byte[32]));
        Assert.Throws<ObjectDisposedException>(() => ring.Rewrap("k", 1, wrapped));
        Assert.Throws<ObjectDisposedException>(() => ring.NeedsRewrap(wrapped));
        Assert.Throws<ObjectDisposedException>(() => ring.KeyCheckValue(1));
        ring.Dispose();
    }

    [Fact]
    public void Constructor_CopiesTheKeys_SoTheCallerMayZeroItsOwn()
    {
        var key = _root1.ToArray();
        using var ring = MasterKeyRing.Single(key);
        var wrapped = ring.Wrap("k", 1, _material);

        CryptographicOperations.ZeroMemory(key);

        Assert.True(ring.CanUnwrap("k", 1, wrapped));
    }

    [Fact]
    public void MasterKeyRoot_ToString_ShowsNoKeyBytes()
    {
        var text = new MasterKeyRoot(1, _root1, "733a280640e729ca").ToString();

        Assert.Equal("MasterKeyRoot { Version = 1, RecordedKeyCheckValue = 733a280640e729ca }", text);
    }
}
