using System.Text.Json;
using System.Text.Json.Nodes;

namespace Xks.Operator.Resources;

/// <summary>
/// The key policy of a CloudKey's KMS key. The first statement always gives the account root every KMS action, so IAM
/// in the account can still manage the key whatever the lists say: the policy can never lock the account out (AWS's
/// default policy does the same). Administrators get the management actions, users the cryptographic ones. Lists are
/// de-duplicated and sorted, so the same spec always renders the same bytes (drift is a plain comparison).
/// </summary>
public static class KeyPolicyBuilder
{
    private static readonly string[] AdministratorActions =
    [
        "kms:CancelKeyDeletion", "kms:Create*", "kms:Delete*", "kms:Describe*", "kms:Disable*", "kms:Enable*",
        "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:ScheduleKeyDeletion", "kms:TagResource",
        "kms:UntagResource", "kms:Update*",
    ];

    private static readonly string[] UserActions =
    [
        "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
    ];

    public static string Build(string partition, string accountId, IEnumerable<string>? administrators, IEnumerable<string>? users)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        var statements = new JsonArray
        {
            Statement("EnableRootAccountPermissions", [$"arn:{partition}:iam::{accountId}:root"], ["kms:*"]),
        };
        if (Sorted(administrators) is { Length: > 0 } admins)
        {
            statements.Add(Statement("AllowKeyAdministration", admins, AdministratorActions));
        }

        if (Sorted(users) is { Length: > 0 } keyUsers)
        {
            statements.Add(Statement("AllowKeyUse", keyUsers, UserActions));
        }

        var policy = new JsonObject { ["Version"] = "2012-10-17", ["Id"] = "xks-operator", ["Statement"] = statements };
        return policy.ToJsonString();
    }

    /// <summary>True when two policy documents say the same thing (JSON equality, whitespace and key order ignored).</summary>
    public static bool AreEquivalent(string? left, string? right)
    {
        if (left is null || right is null)
        {
            return left == right;
        }

        try
        {
            return JsonNode.DeepEquals(JsonNode.Parse(left), JsonNode.Parse(right));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string[] Sorted(IEnumerable<string>? arns) =>
        arns is null ? [] : [.. arns.Where(a => !string.IsNullOrWhiteSpace(a)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private static JsonObject Statement(string sid, string[] principals, string[] actions)
    {
        var principal = new JsonArray();
        foreach (var arn in principals)
        {
            principal.Add(arn);
        }

        var action = new JsonArray();
        foreach (var name in actions)
        {
            action.Add(name);
        }

        return new JsonObject
        {
            ["Sid"] = sid,
            ["Effect"] = "Allow",
            ["Principal"] = new JsonObject { ["AWS"] = principal },
            ["Action"] = action,
            ["Resource"] = "*",
        };
    }
}
