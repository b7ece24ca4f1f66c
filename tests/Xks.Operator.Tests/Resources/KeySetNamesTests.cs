using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

/// <summary>A KeySet's path prefix on its Vault's proxy: the default, an empty one, and which of two clashing KeySets is refused.</summary>
public sealed class KeySetNamesTests
{
    private static readonly DateTime Start = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1Alpha1KeySet KeySet(string name, string? prefix, int minute, string vault = "xks") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "team-a", CreationTimestamp = Start.AddMinutes(minute) },
        Spec = new V1Alpha1KeySetSpec { VaultRef = new() { Name = vault }, CspAccountRef = new() { Name = "prod" }, UriPathPrefix = prefix },
    };

    [Theory]
    [InlineData(null, "/team-a/payments", "/team-a/payments/kms/xks/v1")]
    [InlineData("/payments", "/payments", "/payments/kms/xks/v1")]
    [InlineData("", "", "/kms/xks/v1")]
    [InlineData("/", "", "/kms/xks/v1")]
    public void UriPathPrefix_SpecPrefix_UnsetIsTheDefaultAndEmptyIsNoPrefix(string? prefix, string expected, string path)
    {
        var keySet = KeySet("payments", prefix, 0);

        Assert.Equal(expected, KeySetNames.UriPathPrefix(keySet));
        Assert.Equal(path, KeySetNames.UriPath(keySet));
    }

    public static TheoryData<string, V1Alpha1KeySet, V1Alpha1KeySet[], string?> Conflicts => new()
    {
        { "an empty prefix alone on its Vault is served", KeySet("payments", "", 0), [KeySet("payments", "", 0)], null },
        { "an empty prefix next to an older KeySet is refused, naming it", KeySet("payments", "", 5), [KeySet("ledger", null, 1)],
            "spec.uriPathPrefix is the root (\"/\" or \"\") but Vault xks already serves KeySet ledger (prefix /team-a/ledger): an empty prefix needs a Vault of its own — set a prefix, or move one KeySet to another Vault" },
        { "the root prefix next to an older KeySet is refused like the empty one", KeySet("payments", "/", 5), [KeySet("ledger", "/ledger", 1)],
            "spec.uriPathPrefix is the root (\"/\" or \"\") but Vault xks already serves KeySet ledger (prefix /ledger): an empty prefix needs a Vault of its own — set a prefix, or move one KeySet to another Vault" },
        { "a second empty prefix is refused, naming the first", KeySet("payments", "", 5), [KeySet("ledger", "", 1)],
            "spec.uriPathPrefix is the root (\"/\" or \"\") but Vault xks already serves KeySet ledger (prefix /, none): an empty prefix needs a Vault of its own — set a prefix, or move one KeySet to another Vault" },
        { "a KeySet next to an older empty prefix is refused, naming it", KeySet("payments", "/payments", 5), [KeySet("ledger", "", 1)],
            "Vault xks serves KeySet ledger with the empty uriPathPrefix, which it can share with no other KeySet — give ledger a prefix, or use another Vault" },
        { "the older KeySet keeps serving when a newer one clashes", KeySet("ledger", "", 1), [KeySet("payments", "/payments", 5)], null },
        { "the same creation time: the name decides", KeySet("b", "", 1), [KeySet("a", "/a", 1)],
            "spec.uriPathPrefix is the root (\"/\" or \"\") but Vault xks already serves KeySet a (prefix /a): an empty prefix needs a Vault of its own — set a prefix, or move one KeySet to another Vault" },
        { "a KeySet of another Vault does not count", KeySet("payments", "", 5), [KeySet("ledger", null, 1, vault: "other")], null },
        { "distinct prefixes share a Vault", KeySet("payments", "/payments", 5), [KeySet("ledger", "/ledger", 1)], null },
        { "the same prefix twice is refused, naming the first", KeySet("payments", "/shared", 5), [KeySet("ledger", "/shared", 1)],
            "uriPathPrefix /shared is already KeySet ledger's on Vault xks; choose another" },
    };

    [Theory]
    [MemberData(nameof(Conflicts))]
    public void UriPathPrefixConflict_KeySetsOfTheVault_RefusesTheLaterOfTwoThatClash(string scenario, V1Alpha1KeySet keySet, V1Alpha1KeySet[] others, string? refusal)
    {
        var found = KeySetNames.UriPathPrefixConflict(keySet, [keySet, .. others]);

        Assert.True(refusal == found, $"{scenario}: {found}");
    }
}
