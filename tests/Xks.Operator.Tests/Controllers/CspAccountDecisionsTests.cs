using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>Who may use a ClusterCspAccount: the namespaces its selector selects, nobody else.</summary>
public sealed class CspAccountDecisionsTests
{
    private static V1Alpha1ClusterCspAccount Shared(V1LabelSelector selector) => new()
    {
        Metadata = new V1ObjectMeta { Name = "shared" },
        Spec = new V1Alpha1ClusterCspAccountSpec { Region = "eu-west-1", NamespaceSelector = selector },
    };

    private static V1Namespace Namespace(string name, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
    };

    private static readonly V1LabelSelector TeamsWithKeys = new() { MatchLabels = new Dictionary<string, string> { ["xks.dev/keys"] = "shared" } };

    public static TheoryData<string, V1LabelSelector, V1Namespace?, string?> Cases => new()
    {
        { "a selected namespace", TeamsWithKeys, Namespace("team-a", ("xks.dev/keys", "shared")), null },
        { "an unselected namespace", TeamsWithKeys, Namespace("team-b"), "namespaceSelector does not select namespace team-b" },
        { "a namespace not yet known", TeamsWithKeys, null, "namespace team-b is not known yet" },
        { "the empty selector: every namespace", new V1LabelSelector(), Namespace("team-b"), null },
        { "an invalid selector: no namespace", new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "team", OperatorProperty = "In" }] }, Namespace("team-b", ("team", "b")), "namespaceSelector is invalid" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClusterAccountRefusal_NamespaceSelector_OnlySelectedNamespaces(string because, V1LabelSelector selector, V1Namespace? ns, string? refusal)
    {
        var actual = CspAccountDecisions.ClusterAccountRefusal(Shared(selector), ns?.Metadata.Name ?? "team-b", ns);

        if (refusal is null)
        {
            Assert.True(actual is null, $"{because}: {actual}");
        }
        else
        {
            Assert.True(actual is not null && actual.Contains(refusal, StringComparison.Ordinal), $"{because}: {actual}");
        }
    }

    [Fact]
    public void KeySetsUsingClusterAccount_OnlyKeySetsNamingItByKindAndName()
    {
        V1Alpha1KeySet KeySet(string ns, string name, V1Alpha1CspAccountKind kind, string account) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1Alpha1KeySetSpec { VaultRef = new() { Name = "xks" }, CspAccountRef = new() { Kind = kind, Name = account } },
        };

        var keySets = new[]
        {
            KeySet("team-a", "uses-it", V1Alpha1CspAccountKind.ClusterCspAccount, "shared"),
            KeySet("team-b", "also", V1Alpha1CspAccountKind.ClusterCspAccount, "shared"),
            KeySet("team-b", "same-name-namespaced", V1Alpha1CspAccountKind.CspAccount, "shared"),
            KeySet("team-c", "another", V1Alpha1CspAccountKind.ClusterCspAccount, "other"),
        };

        Assert.Equal(["team-a/uses-it", "team-b/also"], CspAccountResolver.KeySetsUsingClusterAccount(keySets, "shared").Select(k => k.ToString()));
        Assert.Equal(["team-b/also"], CspAccountResolver.KeySetsOfNamespaceUsingClusterAccounts(keySets.Where(k => k.Metadata.NamespaceProperty == "team-b")).Select(k => k.ToString()));
    }

    [Theory]
    [InlineData("team=a", "team=a", false)]
    [InlineData("team=a", "team=b", true)]
    [InlineData("team=a", "team=a,share=yes", true)]
    [InlineData("team=a,share=yes", "team=a", true)]
    [InlineData("", "", false)]
    public void NamespaceChangeMatters_OnlyALabelChange(string before, string after, bool matters)
    {
        static V1Namespace Ns(string labels) => new()
        {
            Metadata = new V1ObjectMeta
            {
                Name = "team-a",
                Labels = labels.Length == 0 ? null : labels.Split(',').Select(l => l.Split('=')).ToDictionary(l => l[0], l => l[1]),
                Annotations = new Dictionary<string, string> { ["changed"] = labels },
            },
        };

        Assert.Equal(matters, CspAccountDecisions.NamespaceChangeMatters(Ns(before), Ns(after)));
    }
}
