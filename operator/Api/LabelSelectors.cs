using k8s.Models;

namespace Xks.Operator.Api;

/// <summary>
/// Evaluates a meta/v1 LabelSelector against a set of labels as the API server does: every <c>matchLabels</c> pair
/// and every <c>matchExpressions</c> requirement (In, NotIn, Exists, DoesNotExist) must hold; an empty selector
/// selects everything. A selector the API server would reject (an unknown operator, In/NotIn without values,
/// Exists/DoesNotExist with values) selects nothing and says why (pure).
/// </summary>
public static class LabelSelectors
{
    /// <summary>Whether <paramref name="selector"/> selects <paramref name="labels"/>; <paramref name="problem"/> is set when the selector is invalid.</summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels, out string? problem)
    {
        problem = null;
        if (selector is null)
        {
            problem = "no selector";
            return false;
        }

        labels ??= new Dictionary<string, string>();
        var matches = true;
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            matches &= labels.TryGetValue(key, out var actual) && actual == value;
        }

        foreach (var requirement in selector.MatchExpressions ?? [])
        {
            var values = requirement.Values ?? [];
            var has = labels.TryGetValue(requirement.Key ?? "", out var actual);
            switch (requirement.OperatorProperty)
            {
                case "In" when values.Count > 0:
                    matches &= has && values.Contains(actual!);
                    break;
                case "NotIn" when values.Count > 0:
                    matches &= !has || !values.Contains(actual!);
                    break;
                case "Exists" when values.Count == 0:
                    matches &= has;
                    break;
                case "DoesNotExist" when values.Count == 0:
                    matches &= !has;
                    break;
                case "In" or "NotIn":
                    problem = $"matchExpressions key {requirement.Key}: operator {requirement.OperatorProperty} needs values";
                    return false;
                case "Exists" or "DoesNotExist":
                    problem = $"matchExpressions key {requirement.Key}: operator {requirement.OperatorProperty} takes no values";
                    return false;
                default:
                    problem = $"matchExpressions key {requirement.Key}: unknown operator '{requirement.OperatorProperty}' (In, NotIn, Exists or DoesNotExist)";
                    return false;
            }
        }

        return matches;
    }
}
