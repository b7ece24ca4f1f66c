using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyCustody.Tests;

public sealed class CustodianShareTests
{
    private const string VaultId = "payments_vault-a";

    // Share x = 2 of the hand-checked 3-of-5 split in ShamirTests (y = 42 cb, base64url "Qss"); the checksum is
    // base64url of the first 4 bytes of SHA-256("xks-share-v1.payments_vault-a.3.2.Qss"), computed with Python's hashlib.
    private const string KnownText = "xks-share-v1.payments_vault-a.3.2.Qss.QmuGQQ";

    private const string ChecksumMismatch = "checksum mismatch: the share was mistyped or altered";

    /// <summary>A fixed 32-byte y, so the every-character test is deterministic.</summary>
    private static readonly byte[] FixedY = Convert.FromHexString("07A5C3F00D1E2F3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A6978FFEEDDCC");

    [Fact]
    public void Format_KnownShare_GivesTheDocumentedText()
    {
        Assert.Equal(KnownText, CustodianShare.Format(VaultId, 3, Convert.FromHexString("0242CB")));
    }

    [Fact]
    public void TryParse_KnownText_ReadsEveryField()
    {
        Assert.True(CustodianShare.TryParse(KnownText, out var share, out var problem), problem);

        Assert.Null(problem);
        Assert.Equal(VaultId, share.VaultId);
        Assert.Equal(3, share.Threshold);
        Assert.Equal(2, share.X);
        Assert.Equal(Convert.FromHexString("42CB"), share.Y);
        Assert.Equal(Convert.FromHexString("0242CB"), share.ToShare());
    }

    [Fact]
    public void FormatThenTryParse_EveryShareOfASplit_RoundTripsAndCombines()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var texts = Shamir.Split(secret, 3, 5).Select(s => CustodianShare.Format(VaultId, 3, s)).ToArray();

        var parsed = texts.Select(Parse).ToArray();

        Assert.Equal(texts, parsed.Select(p => p.Format()));
        Assert.Equal(secret, CustodianShare.Combine([parsed[4], parsed[0], parsed[2]], VaultId));
    }

    [Fact]
    public void TryParse_WhitespaceAndLineBreaks_AreIgnored()
    {
        Assert.True(CustodianShare.TryParse("  xks-share-v1.payments_vault-a.3.2.\r\n\tQss.Qmu GQQ\n", out var share, out var problem), problem);

        Assert.Equal(KnownText, share.Format());
    }

    [Fact]
    public void TryParse_EveryCharacterChanged_IsRefusedWithoutQuotingTheSharePart()
    {
        var text = CustodianShare.Format(VaultId, 3, [2, .. FixedY]);
        var yText = Base64Url.EncodeToString(FixedY);
        var bodyStart = CustodianShare.Prefix.Length + 1;

        for (var i = 0; i < text.Length; i++)
        {
            var changed = string.Concat(text.AsSpan(0, i), [Other(text[i])], text.AsSpan(i + 1));

            Assert.False(CustodianShare.TryParse(changed, out var share, out var problem), $"position {i}");
            Assert.Null(share);
            Assert.DoesNotContain(yText, problem, StringComparison.Ordinal);
            Assert.DoesNotContain(yText[..8], problem, StringComparison.Ordinal);
            if (i >= bodyStart && text[i] != '.')
            {
                Assert.Equal(ChecksumMismatch, problem);
            }
        }
    }

    [Fact]
    public void TryParse_AnyCharacterLeftOut_IsRefused()
    {
        var text = CustodianShare.Format(VaultId, 3, [2, .. FixedY]);

        for (var i = 0; i < text.Length; i++)
        {
            Assert.False(CustodianShare.TryParse(text.Remove(i, 1), out _, out _), $"position {i}");
        }
    }

    [Theory]
    [InlineData("", "empty: paste the whole share line")]
    [InlineData(" \n", "empty: paste the whole share line")]
    [InlineData("hello", "not an xks share: a share line starts with 'xks-share-v1.'")]
    [InlineData("hello, world!", "not an xks share")]
    [InlineData("XKS-SHARE-V1.payments_vault-a.3.2.Qss.QmuGQQ", "not an xks share")]
    [InlineData("xks-share-v2.payments_vault-a.3.2.Qss.QmuGQQ", "unsupported version 'v2': this build reads xks-share-v1 shares")]
    [InlineData("xks-share-vQssQmuGQQ", "unsupported version: this build reads xks-share-v1 shares")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Qss", "too few fields: a share has 6 fields")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Qss.QmuGQQ.x", "too many fields: a share has 6 fields")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Qss.QmuGQq", ChecksumMismatch)]
    [InlineData("xks-share-v1.payments_vault-a.3.3.Qss.QmuGQQ", ChecksumMismatch)]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Qss.", ChecksumMismatch)]
    [InlineData("xks-share-v1.payments/vault-a.3.2.Qss.QmuGQQ", "unexpected character at position 22:")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Qss=.QmuGQQ", "unexpected character at position 38:")]
    public void TryParse_MalformedText_SaysWhatIsWrong(string text, string expected)
    {
        Assert.False(CustodianShare.TryParse(text, out var share, out var problem));

        Assert.Null(share);
        Assert.StartsWith(expected, problem);
    }

    [Theory]
    [InlineData("xks-share-v1.Payments_vault-a.3.2.Qss", "invalid vault id:")]
    [InlineData("xks-share-v1._vault.3.2.Qss", "invalid vault id:")]
    [InlineData("xks-share-v1..3.2.Qss", "invalid vault id:")]
    [InlineData("xks-share-v1.payments_vault-a.1.2.Qss", "invalid threshold:")]
    [InlineData("xks-share-v1.payments_vault-a.03.2.Qss", "invalid threshold:")]
    [InlineData("xks-share-v1.payments_vault-a.256.2.Qss", "invalid threshold:")]
    [InlineData("xks-share-v1.payments_vault-a.3.0.Qss", "invalid x:")]
    [InlineData("xks-share-v1.payments_vault-a.3.256.Qss", "invalid x:")]
    [InlineData("xks-share-v1.payments_vault-a.3.x.Qss", "invalid x:")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.", "invalid share field:")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Q", "invalid share field:")]
    [InlineData("xks-share-v1.payments_vault-a.3.2.Qst", "invalid share field:")]
    public void TryParse_FieldNoReleaseWrites_IsNamedOnceTheChecksumHolds(string body, string expected)
    {
        Assert.False(CustodianShare.TryParse(WithChecksum(body), out _, out var problem));

        Assert.StartsWith(expected, problem);
    }

    [Fact]
    public void TryParse_ShareFieldOfTheLongestSecret_IsRead()
    {
        var y = RandomNumberGenerator.GetBytes(Shamir.MaxSecretLength);
        var text = CustodianShare.Format(VaultId, 2, [1, .. y]);

        Assert.True(text.Length <= CustodianShare.MaxTextLength);
        Assert.Equal(y, Parse(text).Y);
    }

    [Fact]
    public void TryParse_ShareFieldLongerThanAnySecret_IsRefused()
    {
        var body = $"xks-share-v1.{VaultId}.2.1.{Base64Url.EncodeToString(new byte[Shamir.MaxSecretLength + 1])}";

        Assert.False(CustodianShare.TryParse(WithChecksum(body), out _, out var problem));
        Assert.StartsWith("invalid share field:", problem);
    }

    [Fact]
    public void TryParse_LongerThanAnyShare_IsRefusedBeforeTheChecksum()
    {
        var longest = $"xks-share-v1.{VaultId}.2.1.{new string('A', CustodianShare.MaxTextLength)}.QmuGQQ";

        Assert.False(CustodianShare.TryParse(longest, out _, out var problem));
        Assert.StartsWith("too long: a share is at most 1522 characters", problem);
        Assert.False(CustodianShare.TryParse(new string('x', 10 * CustodianShare.MaxTextLength), out _, out problem));
        Assert.StartsWith("too long:", problem);
    }

    [Fact]
    public void ToString_NeverContainsTheShareBytes()
    {
        using var share = new CustodianShare(VaultId, 3, 2, FixedY);

        var text = share.ToString();

        Assert.Equal($"CustodianShare {{ VaultId = {VaultId}, Threshold = 3, X = 2, Y = (32 bytes, not shown) }}", text);
        Assert.DoesNotContain(Convert.ToHexString(FixedY)[..8], text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(FixedY)[..8], text, StringComparison.Ordinal);
        Assert.DoesNotContain(Base64Url.EncodeToString(FixedY)[..8], text, StringComparison.Ordinal);
        Assert.DoesNotContain("Byte", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_ZeroesYAndRefusesFurtherUse()
    {
        var share = new CustodianShare(VaultId, 3, 2, FixedY);
        var y = share.Y;

        share.Dispose();

        Assert.All(y, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => share.Format());
        Assert.Throws<ObjectDisposedException>(() => share.ToShare());
        Assert.Throws<ObjectDisposedException>(() => CustodianShare.CheckSet([share]));
    }

    [Fact]
    public void With_CopiesY_SoDisposingTheCopyLeavesTheOriginal()
    {
        using var original = new CustodianShare(VaultId, 3, 2, FixedY);
        var copy = original with { };

        copy.Dispose();

        Assert.Equal(FixedY, original.Y);
        Assert.NotSame(original.Y, copy.Y);
    }

    [Fact]
    public void Constructor_CopiesY()
    {
        var y = (byte[])FixedY.Clone();
        using var share = new CustodianShare(VaultId, 3, 2, y);

        y[0] ^= 1;

        Assert.Equal(FixedY, share.Y);
    }

    [Fact]
    public void Equals_SameFields_AreEqualAndAnotherYIsNot()
    {
        using var a = new CustodianShare(VaultId, 3, 2, FixedY);
        using var b = new CustodianShare(VaultId, 3, 2, FixedY);
        using var c = new CustodianShare(VaultId, 3, 2, [.. Enumerable.Reverse(FixedY)]);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("Payments", 3, 2, 32)]
    [InlineData("", 3, 2, 32)]
    [InlineData("a.b", 3, 2, 32)]
    [InlineData("-a", 3, 2, 32)]
    [InlineData(VaultId, 3, 2, 0)]
    [InlineData(VaultId, 3, 2, 1025)]
    public void Constructor_InvalidVaultIdOrY_Throws(string vaultId, int threshold, int x, int length) =>
        Assert.Throws<ArgumentException>(() => new CustodianShare(vaultId, threshold, (byte)x, new byte[length]));

    [Theory]
    [InlineData(1, 2)]
    [InlineData(256, 2)]
    [InlineData(3, 0)]
    public void Constructor_ThresholdOrXOutOfRange_Throws(int threshold, int x) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CustodianShare(VaultId, threshold, (byte)x, FixedY));

    [Fact]
    public void VaultIdFor_NamespaceAndName_JoinsThemWithAnUnderscore()
    {
        Assert.Equal("payments_vault-a", CustodianShare.VaultIdFor("payments", "vault-a"));
        Assert.NotEqual(CustodianShare.VaultIdFor("a-b", "c"), CustodianShare.VaultIdFor("a", "b-c"));
        Assert.True(CustodianShare.IsValidVaultId(CustodianShare.VaultIdFor(new string('n', 63), new string('v', 63))));
    }

    [Theory]
    [InlineData("Payments", "vault")]
    [InlineData("", "vault")]
    [InlineData("team/a", "vault")]
    [InlineData("payments", "vault_a")]
    [InlineData("payments", "vault.a")]
    [InlineData("payments", "-vault")]
    [InlineData("payments", "vault-")]
    public void VaultIdFor_NotADnsLabel_Throws(string @namespace, string name) =>
        Assert.Throws<ArgumentException>(() => CustodianShare.VaultIdFor(@namespace, name));

    [Fact]
    public void VaultIdFor_LabelLongerThanSixtyThree_Throws() =>
        Assert.Throws<ArgumentException>(() => CustodianShare.VaultIdFor(new string('n', 64), "vault"));

    [Fact]
    public void CheckSet_AgreeingShares_HasNoProblem()
    {
        using var a = Share(x: 1);
        using var b = Share(x: 4);
        using var c = Share(x: 5);

        Assert.Empty(CustodianShare.CheckSet([a, b, c], VaultId));
        Assert.Empty(CustodianShare.CheckSet([a, b, c]));
    }

    [Fact]
    public void CheckSet_ShareOfAnotherVault_IsNamed()
    {
        using var a = Share(x: 1);
        using var b = Share(x: 2, vaultId: "payments_vault-b");
        using var c = Share(x: 3);

        Assert.Equal(
            ["share 2 (x = 2) is for Vault 'payments_vault-b', not 'payments_vault-a'."],
            CustodianShare.CheckSet([a, b, c], VaultId));
        Assert.Equal(
            ["share 2 (x = 2) is for Vault 'payments_vault-b' but share 1 is for 'payments_vault-a'."],
            CustodianShare.CheckSet([a, b, c]));
    }

    [Fact]
    public void CheckSet_DifferentThresholds_AreRefused()
    {
        using var a = Share(x: 1);
        using var b = Share(x: 2, threshold: 2);
        using var c = Share(x: 3);

        Assert.Equal(
            ["share 2 (x = 2) says 2 shares are needed but share 1 says 3: they come from different splits."],
            CustodianShare.CheckSet([a, b, c], VaultId));
    }

    [Fact]
    public void CheckSet_SameCustodianTwice_IsRefusedAndNotCounted()
    {
        using var a = Share(x: 1);
        using var b = Share(x: 2);
        using var again = Share(x: 1);

        Assert.Equal(
            [
                "shares 1 and 3 are both custodian x = 1: each custodian's share counts once.",
                "3 custodians' shares are needed, 2 given.",
            ],
            CustodianShare.CheckSet([a, b, again], VaultId));
    }

    [Fact]
    public void CheckSet_FewerThanTheThreshold_IsRefused()
    {
        using var a = Share(x: 1);
        using var b = Share(x: 2);

        Assert.Equal(["3 custodians' shares are needed, 2 given."], CustodianShare.CheckSet([a, b], VaultId));
    }

    [Fact]
    public void CheckSet_DifferentLengths_AreRefused()
    {
        using var a = Share(x: 1);
        using var b = new CustodianShare(VaultId, 3, 2, FixedY[..16]);
        using var c = Share(x: 3);

        Assert.Equal(
            ["share 2 (x = 2) holds 16 bytes but share 1 holds 32: they come from different splits."],
            CustodianShare.CheckSet([a, b, c], VaultId));
    }

    [Fact]
    public void CheckSet_NoShares_IsRefused() =>
        Assert.Equal(["no shares were given."], CustodianShare.CheckSet([]));

    [Fact]
    public void Combine_SharesThatDisagree_ThrowsWithEveryProblem()
    {
        using var a = Share(x: 1);
        using var b = Share(x: 1, vaultId: "payments_vault-b");

        var ex = Assert.Throws<ArgumentException>(() => CustodianShare.Combine([a, b], VaultId));

        Assert.StartsWith(
            "share 2 (x = 1) is for Vault 'payments_vault-b', not 'payments_vault-a'. shares 1 and 2 are both custodian x = 1: "
            + "each custodian's share counts once. 3 custodians' shares are needed, 1 given.",
            ex.Message);
    }

    private static CustodianShare Share(byte x, string vaultId = VaultId, int threshold = 3) => new(vaultId, threshold, x, FixedY);

    private static CustodianShare Parse(string text)
    {
        Assert.True(CustodianShare.TryParse(text, out var share, out var problem), problem);
        return share;
    }

    /// <summary>The body with a valid checksum, computed here independently of the code under test.</summary>
    private static string WithChecksum(string body) =>
        $"{body}.{Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(body)).AsSpan(0, 4))}";

    /// <summary>Another character of the same kind, so the line keeps its shape and only the checksum can notice.</summary>
    private static char Other(char c) => c switch
    {
        '.' => 'a',
        '-' => '_',
        '_' => '-',
        'z' => '0',
        '9' => 'a',
        'Z' => 'A',
        _ => (char)(c + 1),
    };
}
