using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xks.Contracts.KeyWrap;

namespace Xks.Contracts.KeyCustody.Tests;

/// <summary><see cref="ShamirCeremony"/> and <see cref="ShamirKeyring"/>: the keyring document, unsealing it with combined shares, and adding a root.</summary>
public sealed class ShamirKeyringTests
{
    private const string VaultId = "payments_xks";

    private static CustodianShare Share(string text)
    {
        Assert.True(CustodianShare.TryParse(text, out var share, out var problem), problem);
        return share;
    }

    private static byte[] Combine(IReadOnlyList<string> texts, params int[] indexes)
    {
        var shares = indexes.Select(i => Share(texts[i])).ToArray();
        try
        {
            return CustodianShare.Combine(shares, VaultId);
        }
        finally
        {
            foreach (var share in shares)
            {
                share.Dispose();
            }
        }
    }

    /// <summary>The raw Shamir combination of any shares, even fewer than the threshold (which CustodianShare.Combine refuses).</summary>
    private static byte[] CombineRaw(IReadOnlyList<string> texts, params int[] indexes)
    {
        var raw = indexes.Select(i => (ReadOnlyMemory<byte>)Share(texts[i]).ToShare()).ToArray();
        return Shamir.Combine(raw);
    }

    private static string Flip(string base64, int index)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[index] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 2 })]
    [InlineData(new[] { 4, 2, 0 })]
    [InlineData(new[] { 1, 3, 4 })]
    [InlineData(new[] { 0, 1, 2, 3, 4 })]
    public void Initialize_ThenAnyThresholdOfShares_UnsealsARingWhoseKeyCheckValuesMatch(int[] indexes)
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 3, 5);
        var parsed = ShamirKeyring.Parse(keyring.Serialize());
        var unsealKey = Combine(texts, indexes);

        Assert.True(parsed.TryUnseal(unsealKey, out var ring, out var problem), problem);
        using (ring)
        {
            Assert.Null(problem);
            Assert.Equal([1], ring.Versions);
            Assert.Equal(1, ring.CurrentVersion);
            Assert.Equal(parsed.Roots[0].KeyCheckValue, ring.KeyCheckValue(1));
            Assert.Equal(parsed.UnsealKeyCheckValue, WrappedKey.KeyCheckValue(unsealKey));
            Assert.True(parsed.IsUnsealKey(unsealKey));
        }

        Assert.Equal(5, texts.Count);
        Assert.Equal(texts.Count, texts.Distinct().Count());
        Assert.All(texts, t => Assert.StartsWith("xks-share-v1.payments_xks.3.", t, StringComparison.Ordinal));
        Assert.Equal((VaultId, 3, 5, 1), (parsed.VaultId, parsed.Threshold, parsed.Shares, parsed.CurrentRoot));
    }

    [Fact]
    public void Unseal_KMinusOneShares_StaysSealed()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 3, 5);
        var twoShares = CombineRaw(texts, 0, 3);

        Assert.False(keyring.TryUnseal(twoShares, out var ring, out var problem));

        Assert.Null(ring);
        Assert.Equal(ShamirKeyring.WrongUnsealKeyProblem, problem);
        Assert.Equal("the shares do not reconstruct this Vault's unseal key", problem);
    }

    [Fact]
    public void Unseal_AShareFromAnotherCeremonyOfTheSameVault_FailsTheKeyCheckBeforeAnyRootIsOpened()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 3, 5);
        var (_, otherTexts) = ShamirCeremony.Initialize(VaultId, 3, 5);
        var shares = new[] { Share(texts[0]), Share(texts[1]), Share(otherTexts[2]) };

        var unsealKey = CustodianShare.Combine(shares, VaultId);

        Assert.Empty(CustodianShare.CheckSet(shares, VaultId));
        Assert.False(keyring.TryUnseal(unsealKey, out _, out var problem));
        Assert.Equal(ShamirKeyring.WrongUnsealKeyProblem, problem);
    }

    [Fact]
    public void Unseal_UnsealKeyOfAnotherLength_IsTheWrongShares()
    {
        var (keyring, _) = ShamirCeremony.Initialize(VaultId, 2, 2);

        Assert.False(keyring.TryUnseal(new byte[16], out _, out var problem));

        Assert.Equal("the shares do not reconstruct this Vault's unseal key (they combine to 16 bytes, not 32)", problem);
    }

    [Fact]
    public void Unseal_TamperedSealedRoot_IsRefused()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 3);
        var document = keyring.ToDocument();
        document.Roots[0].Sealed = Flip(document.Roots[0].Sealed, 20);
        var tampered = ShamirKeyring.FromDocument(document);

        Assert.False(tampered.TryUnseal(Combine(texts, 0, 2), out var ring, out var problem));

        Assert.Null(ring);
        Assert.Equal("root key version 1 fails its integrity check under the unseal key: the keyring was altered, or the root was sealed for another Vault or version", problem);
    }

    [Fact]
    public void Unseal_RootKeyCheckValueChanged_IsRefused()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 3);
        var document = keyring.ToDocument();
        document.Roots[0].KeyCheckValue = "0000000000000000";

        Assert.False(ShamirKeyring.FromDocument(document).TryUnseal(Combine(texts, 1, 2), out _, out var problem));

        Assert.Equal("root key version 1 does not match its recorded key-check value 0000000000000000: the keyring was altered", problem);
    }

    [Fact]
    public void Unseal_SealedRootsSwappedBetweenVersions_FailTheirIntegrityCheck()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 3);
        var unsealKey = Combine(texts, 0, 1);
        var document = keyring.WithNewRoot(unsealKey).ToDocument();
        (document.Roots[0].Sealed, document.Roots[1].Sealed) = (document.Roots[1].Sealed, document.Roots[0].Sealed);

        Assert.False(ShamirKeyring.FromDocument(document).TryUnseal(unsealKey, out _, out var problem));

        Assert.StartsWith("root key version 1 fails its integrity check", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Unseal_KeyringMovedToAnotherVaultId_FailsTheRootsIntegrityCheck()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 3);
        var document = keyring.ToDocument();
        document.VaultId = "payments_other";

        Assert.False(ShamirKeyring.FromDocument(document).TryUnseal(Combine(texts, 0, 1), out _, out var problem));

        Assert.StartsWith("root key version 1 fails its integrity check", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void WithNewRoot_AddsTheNextVersionAsCurrent_AndKeepsTheOldRootAsItWas()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 3);
        var unsealKey = Combine(texts, 0, 2);

        var rotated = keyring.WithNewRoot(unsealKey).WithNewRoot(unsealKey);

        Assert.Equal([1, 2, 3], rotated.RootVersions);
        Assert.Equal(3, rotated.CurrentRoot);
        Assert.Equal(keyring.Roots[0], rotated.Roots[0]);
        Assert.Equal([1], keyring.RootVersions);
        Assert.True(rotated.HasSameUnsealKey(keyring));
        Assert.False(rotated.SameAs(keyring));
        Assert.True(rotated.TryUnseal(unsealKey, out var ring, out var problem), problem);
        using (ring)
        {
            Assert.Equal([1, 2, 3], ring.Versions);
            Assert.Equal(3, ring.CurrentVersion);
            Assert.Equal(rotated.Roots.Select(r => r.KeyCheckValue), ring.Versions.Select(ring.KeyCheckValue));
            Assert.Equal(3, ring.Versions.Select(ring.KeyCheckValue).Distinct().Count());
        }
    }

    [Fact]
    public void WithNewRoot_WrongUnsealKey_IsRefused()
    {
        var (keyring, _) = ShamirCeremony.Initialize(VaultId, 2, 3);

        var ex = Assert.Throws<CryptographicException>(() => keyring.WithNewRoot(RandomNumberGenerator.GetBytes(32)));

        Assert.Equal("Vault 'payments_xks': the shares do not reconstruct this Vault's unseal key; no root was added.", ex.Message);
    }

    [Fact]
    public void WithNewRoot_AfterRootVersion255_IsRefused()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 2);
        var unsealKey = Combine(texts, 0, 1);
        var document = keyring.ToDocument();
        document.Roots[0].Version = 255;
        document.CurrentRoot = 255;

        var ex = Assert.Throws<InvalidOperationException>(() => ShamirKeyring.FromDocument(document).WithNewRoot(unsealKey));

        Assert.Contains("already has root version 255", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_WritesTheDocumentedShape_AndParsesBackToTheSameText()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 3, 5);
        var json = keyring.WithNewRoot(Combine(texts, 0, 1, 2)).Serialize();

        var node = JsonNode.Parse(json)!.AsObject();

        Assert.Equal(["vaultId", "threshold", "shares", "unsealKeyCheckValue", "currentRoot", "roots"], node.Select(p => p.Key));
        Assert.Equal(["version", "keyCheckValue", "sealed"], node["roots"]![0]!.AsObject().Select(p => p.Key));
        Assert.Matches("^[0-9a-f]{16}$", node["unsealKeyCheckValue"]!.GetValue<string>());
        Assert.Equal(60, Convert.FromBase64String(node["roots"]![1]!["sealed"]!.GetValue<string>()).Length);
        Assert.Equal(json, ShamirKeyring.Parse(json).Serialize());
        Assert.StartsWith("""{"vaultId":"payments_xks","threshold":3,"shares":5,"unsealKeyCheckValue":""", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_NamesTheFieldsAndVersions_NotTheSealedRoots()
    {
        var (keyring, _) = ShamirCeremony.Initialize(VaultId, 2, 3);

        Assert.Equal("ShamirKeyring { VaultId = payments_xks, Threshold = 2, Shares = 3, CurrentRoot = 1, Roots = [1] }", keyring.ToString());
    }

    public static TheoryData<string, string, string[]> ParseErrors() => new()
    {
        { "vaultId", "\"\"", ["vaultId: required (the Vault's '<namespace>_<name>')"] },
        { "vaultId", "\"Payments/xks\"", ["vaultId: 'Payments/xks' is not a vault id: 1 to 127 characters of a-z, 0-9, '-' and '_', starting and ending with a letter or digit ('<namespace>_<name>')"] },
        { "threshold", "1", ["threshold: must be from 2 to 255 (got 1)"] },
        { "threshold", "256", ["threshold: must be from 2 to 255 (got 256)"] },
        { "threshold", "6", ["shares: 5 is fewer than the threshold 6: the unseal key could never be reconstructed"] },
        { "shares", "256", ["shares: must be from 2 to 255 (got 256)"] },
        { "unsealKeyCheckValue", "\"0123456789abcdeg\"", ["unsealKeyCheckValue: must be 16 hex digits (the unseal key's key-check value)"] },
        { "unsealKeyCheckValue", "\"0123\"", ["unsealKeyCheckValue: must be 16 hex digits (the unseal key's key-check value)"] },
        { "currentRoot", "2", ["currentRoot: 2 is not a listed root version (the roots are 1)"] },
        { "roots", "[]", ["roots: list at least one root key"] },
        { "roots[0].version", "0", ["roots[0].version: must be from 1 to 255 (got 0)", "currentRoot: 1 is not a listed root version (the roots are none valid)"] },
        { "roots[0].version", "256", ["roots[0].version: must be from 1 to 255 (got 256)", "currentRoot: 1 is not a listed root version (the roots are none valid)"] },
        { "roots[0].keyCheckValue", "\"xyz\"", ["roots[0].keyCheckValue: must be 16 hex digits (the root key's key-check value)"] },
        { "roots[0].sealed", "\"AAAA\"", ["roots[0].sealed: must be standard Base64 of 60 bytes (iv 12, sealed root 32, tag 16), 80 characters (got 4 characters)"] },
        { "roots[0].sealed", "\"" + new string('!', 80) + "\"", ["roots[0].sealed: must be standard Base64 of 60 bytes (iv 12, sealed root 32, tag 16), 80 characters (got 80 characters)"] },
        { "roots[1]", "{\"version\":1,\"keyCheckValue\":\"0000000000000000\",\"sealed\":\"" + Convert.ToBase64String(new byte[60]) + "\"}", ["roots[1].version: 1 is also the version of roots[0]"] },
    };

    [Theory]
    [MemberData(nameof(ParseErrors))]
    public void Parse_InvalidField_ListsThePreciseProblem(string field, string value, string[] expected)
    {
        var (keyring, _) = ShamirCeremony.Initialize(VaultId, 3, 5);
        var node = JsonNode.Parse(keyring.Serialize())!.AsObject();
        var parts = field.Split('.');
        if (parts[0] == "roots[0]")
        {
            node["roots"]![0]![parts[1]] = JsonNode.Parse(value);
        }
        else if (parts[0] == "roots[1]")
        {
            node["roots"]!.AsArray().Add(JsonNode.Parse(value));
        }
        else
        {
            node[parts[0]] = JsonNode.Parse(value);
        }

        Assert.False(ShamirKeyring.TryParse(node.ToJsonString(), out var parsed, out var problems));

        Assert.Null(parsed);
        Assert.Equal(expected, problems);
        var ex = Assert.Throws<FormatException>(() => ShamirKeyring.Parse(node.ToJsonString()));
        Assert.Equal("Not a valid Shamir keyring: " + string.Join("; ", expected) + ".", ex.Message);
    }

    [Theory]
    [InlineData("", "the document is empty")]
    [InlineData("null", "the document is empty (null)")]
    [InlineData("{\"vaultId\":", "not a keyring document: ")]
    [InlineData("{\"vaultId\":\"a\",\"extra\":1}", "not a keyring document: ")]
    [InlineData("{\"vaultId\":\"a\",\"vaultId\":\"b\"}", "not a keyring document: ")]
    public void Parse_NotAKeyringDocument_SaysSo(string json, string expectedStart)
    {
        Assert.False(ShamirKeyring.TryParse(json, out _, out var problems));

        Assert.StartsWith(expectedStart, Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EveryProblemAtOnce_IsListedInDocumentOrder()
    {
        var json = """{"vaultId":"","threshold":0,"shares":0,"unsealKeyCheckValue":"","currentRoot":0,"roots":[]}""";

        Assert.False(ShamirKeyring.TryParse(json, out _, out var problems));

        Assert.Equal(
        [
            "vaultId: required (the Vault's '<namespace>_<name>')",
            "threshold: must be from 2 to 255 (got 0)",
            "shares: must be from 2 to 255 (got 0)",
            "unsealKeyCheckValue: must be 16 hex digits (the unseal key's key-check value)",
            "roots: list at least one root key",
        ], problems);
    }

    [Fact]
    public void Parse_UppercaseKeyCheckValues_AreReadAndWrittenLowercase()
    {
        var (keyring, texts) = ShamirCeremony.Initialize(VaultId, 2, 2);
        var json = keyring.Serialize()
            .Replace(keyring.UnsealKeyCheckValue, keyring.UnsealKeyCheckValue.ToUpperInvariant(), StringComparison.Ordinal)
            .Replace(keyring.Roots[0].KeyCheckValue, keyring.Roots[0].KeyCheckValue.ToUpperInvariant(), StringComparison.Ordinal);

        var parsed = ShamirKeyring.Parse(json);

        Assert.Equal(keyring.Serialize(), parsed.Serialize());
        Assert.True(parsed.TryUnseal(Combine(texts, 0, 1), out var ring, out _));
        ring.Dispose();
    }

    [Theory]
    [InlineData("Payments_xks", 3, 5, typeof(ArgumentException))]
    [InlineData(VaultId, 1, 5, typeof(ArgumentOutOfRangeException))]
    [InlineData(VaultId, 6, 5, typeof(ArgumentOutOfRangeException))]
    [InlineData(VaultId, 3, 256, typeof(ArgumentOutOfRangeException))]
    public void Initialize_InvalidArguments_AreRefused(string vaultId, int threshold, int shares, Type exception) =>
        Assert.IsAssignableFrom(exception, Record.Exception(() => ShamirCeremony.Initialize(vaultId, threshold, shares)));

    [Fact]
    public void Initialize_TwoCeremonies_DrawDifferentKeys()
    {
        var (first, _) = ShamirCeremony.Initialize(VaultId, 2, 2);
        var (second, _) = ShamirCeremony.Initialize(VaultId, 2, 2);

        Assert.NotEqual(first.UnsealKeyCheckValue, second.UnsealKeyCheckValue);
        Assert.NotEqual(first.Roots[0].KeyCheckValue, second.Roots[0].KeyCheckValue);
        Assert.False(first.HasSameUnsealKey(second));
    }
}
