using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The key policy of a CloudKey's KMS key, in the shape of AWS's default key policy. The first statement always gives
/// the account root every KMS action, so IAM in the account can still manage the key whatever the lists say: the
/// policy can never lock the account out. Administrators get the management actions; users the cryptographic ones
/// and, unless spec.keyPolicy.allowGrantsForAwsResources is false, CreateGrant/ListGrants/RevokeGrant when an AWS
/// service asks for an AWS resource (kms:GrantIsForAWSResource), which EBS, RDS and the like need. spec.keyPolicy
/// adds conditions to the users' statements. Lists are de-duplicated and sorted, so the same spec always renders the
/// same bytes (drift is a plain comparison).
/// </summary>
public static partial class KeyPolicyBuilder
{
    public const string RootSid = "EnableRootAccountPermissions";
    public const string AdministratorsSid = "AllowKeyAdministration";
    public const string UsersSid = "AllowKeyUse";
    public const string UsersDescribeSid = "AllowKeyDescription";
    public const string GrantsSid = "AllowAttachmentOfPersistentResources";

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

    private static readonly string[] GrantActions = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"];

    /// <param name="partition">The account's partition: aws, aws-us-gov, aws-cn.</param>
    /// <param name="accountId">The account ID.</param>
    /// <param name="administrators">spec.administrators.</param>
    /// <param name="users">spec.users.</param>
    /// <param name="conditions">spec.keyPolicy (valid: <see cref="Problems"/> found nothing).</param>
    public static string Build(string partition, string accountId, IEnumerable<string>? administrators, IEnumerable<string>? users, V1Alpha1KeyPolicyConditions? conditions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        var statements = new JsonArray
        {
            Statement(RootSid, [$"arn:{partition}:iam::{accountId}:root"], ["kms:*"], null),
        };
        if (Sorted(administrators) is { Length: > 0 } admins)
        {
            statements.Add(Statement(AdministratorsSid, admins, AdministratorActions, null));
        }

        if (Sorted(users) is { Length: > 0 } keyUsers)
        {
            var viaServices = Sorted(conditions?.ViaServices);
            var context = (conditions?.EncryptionContext ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
            if (context.Count == 0)
            {
                statements.Add(Statement(UsersSid, keyUsers, UserActions, StringEquals(viaServices, context)));
            }
            else
            {
                // DescribeKey carries no encryption context: an encryption-context condition would refuse it always.
                statements.Add(Statement(UsersSid, keyUsers, [.. UserActions.Where(a => a != "kms:DescribeKey")], StringEquals(viaServices, context)));
                statements.Add(Statement(UsersDescribeSid, keyUsers, ["kms:DescribeKey"], StringEquals(viaServices, [])));
            }

            if (conditions?.AllowGrantsForAwsResources ?? true)
            {
                var grantConditions = StringEquals(viaServices, []) ?? new JsonObject();
                grantConditions["Bool"] = new JsonObject { ["kms:GrantIsForAWSResource"] = "true" };
                statements.Add(Statement(GrantsSid, keyUsers, GrantActions, grantConditions));
            }
        }

        var policy = new JsonObject { ["Version"] = "2012-10-17", ["Id"] = "xks-operator", ["Statement"] = statements };
        return policy.ToJsonString();
    }

    /// <summary>What is wrong with spec.keyPolicy (empty: nothing), in the words of a Ready=False InvalidSpec condition.</summary>
    public static List<string> Problems(V1Alpha1KeyPolicyConditions? conditions)
    {
        var problems = new List<string>();
        foreach (var service in conditions?.ViaServices ?? [])
        {
            if (service is null || !ServiceEndpointPattern().IsMatch(service))
            {
                problems.Add($"spec.keyPolicy.viaServices '{service}' must be an AWS service endpoint name <service>.<region>.amazonaws.com (or .amazonaws.com.cn), e.g. ec2.eu-west-1.amazonaws.com");
            }
        }

        foreach (var (key, value) in conditions?.EncryptionContext ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                problems.Add("spec.keyPolicy.encryptionContext has an empty key");
            }
            else if (string.IsNullOrEmpty(value))
            {
                problems.Add($"spec.keyPolicy.encryptionContext '{key}' has an empty value");
            }
        }

        return problems;
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

    /// <summary><c>{"StringEquals": {"kms:EncryptionContext:k": "v", "kms:ViaService": [...]}}</c>, or null without conditions.</summary>
    private static JsonObject? StringEquals(string[] viaServices, List<KeyValuePair<string, string>> context)
    {
        if (viaServices.Length == 0 && context.Count == 0)
        {
            return null;
        }

        var tests = new JsonObject();
        foreach (var (key, value) in context)
        {
            tests["kms:EncryptionContext:" + key] = value;
        }

        if (viaServices.Length > 0)
        {
            tests["kms:ViaService"] = Array(viaServices);
        }

        return new JsonObject { ["StringEquals"] = tests };
    }

    private static JsonArray Array(IEnumerable<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
        {
            array.Add(value);
        }

        return array;
    }

    private static JsonObject Statement(string sid, string[] principals, string[] actions, JsonObject? condition)
    {
        var statement = new JsonObject
        {
            ["Sid"] = sid,
            ["Effect"] = "Allow",
            ["Principal"] = new JsonObject { ["AWS"] = Array(principals) },
            ["Action"] = Array(actions),
            ["Resource"] = "*",
        };
        if (condition is not null)
        {
            statement["Condition"] = condition;
        }

        return statement;
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]*\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?$")]
    private static partial Regex ServiceEndpointPattern();
}
