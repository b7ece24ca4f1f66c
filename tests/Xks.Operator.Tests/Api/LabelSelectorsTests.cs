using k8s.Models;

namespace Xks.Operator.Api.Tests;

/// <summary>LabelSelector evaluation as the API server does it, including the selectors it would reject.</summary>
public sealed class LabelSelectorsTests
{
    private static readonly Dictionary<string, string> TeamA = new() { ["team"] = "a", ["tier"] = "prod" };

    private static V1LabelSelectorRequirement Requirement(string key, string op, params string[] values) =>
        new() { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values };

    public static TheoryData<string, V1LabelSelector, bool, string?> Cases => new()
    {
        { "an empty selector selects everything", new V1LabelSelector(), true, null },
        { "matchLabels that hold", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["team"] = "a" } }, true, null },
        { "matchLabels with another value", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["team"] = "b" } }, false, null },
        { "matchLabels with a missing key", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["owner"] = "a" } }, false, null },
        { "In that holds", new V1LabelSelector { MatchExpressions = [Requirement("team", "In", "a", "c")] }, true, null },
        { "In that does not", new V1LabelSelector { MatchExpressions = [Requirement("team", "In", "b")] }, false, null },
        { "In on a missing key", new V1LabelSelector { MatchExpressions = [Requirement("owner", "In", "a")] }, false, null },
        { "NotIn that holds", new V1LabelSelector { MatchExpressions = [Requirement("team", "NotIn", "b")] }, true, null },
        { "NotIn on a missing key holds", new V1LabelSelector { MatchExpressions = [Requirement("owner", "NotIn", "a")] }, true, null },
        { "NotIn that does not", new V1LabelSelector { MatchExpressions = [Requirement("team", "NotIn", "a")] }, false, null },
        { "Exists", new V1LabelSelector { MatchExpressions = [Requirement("tier", "Exists")] }, true, null },
        { "DoesNotExist on a present key", new V1LabelSelector { MatchExpressions = [Requirement("tier", "DoesNotExist")] }, false, null },
        { "matchLabels and expressions must all hold", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["team"] = "a" }, MatchExpressions = [Requirement("tier", "In", "dev")] }, false, null },
        { "In without values is invalid", new V1LabelSelector { MatchExpressions = [Requirement("team", "In")] }, false, "operator In needs values" },
        { "Exists with values is invalid", new V1LabelSelector { MatchExpressions = [Requirement("team", "Exists", "a")] }, false, "operator Exists takes no values" },
        { "an unknown operator is invalid", new V1LabelSelector { MatchExpressions = [Requirement("team", "Gt", "1")] }, false, "unknown operator 'Gt'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_Selector_AsTheApiServerWould(string because, V1LabelSelector selector, bool expected, string? problem)
    {
        var matches = LabelSelectors.Matches(selector, TeamA, out var actualProblem);

        Assert.True(expected == matches, because);
        if (problem is null)
        {
            Assert.Null(actualProblem);
        }
        else
        {
            Assert.Contains(problem, actualProblem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Matches_NoSelector_SelectsNothing()
    {
        Assert.False(LabelSelectors.Matches(null, TeamA, out var problem));
        Assert.Equal("no selector", problem);
    }
}
