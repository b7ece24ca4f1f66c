using System.Text.Json.Nodes;
using Xks.KmsEmulator;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// The IAM policy shipped for the operator's principal (config/iam/recommended-inline-policy.json), given to the
/// operator's credential in the KMS emulator: every call the operator makes in a test is then evaluated against it, so a
/// missing action fails that test with AccessDeniedException.
/// </summary>
internal static class OperatorIdentityPolicy
{
    public static string FilePath { get; } = Path.Combine(LocalCluster.RepositoryRoot, "config", "iam", "recommended-inline-policy.json");

    public static string Json { get; } = File.ReadAllText(FilePath);

    /// <summary>config/iam/access-key-rotation-policy.json: what an IAM user whose keys a CspAccount rotates needs on itself.</summary>
    public static string AccessKeyRotationJson { get; } = File.ReadAllText(Path.Combine(LocalCluster.RepositoryRoot, "config", "iam", "access-key-rotation-policy.json"));

    /// <summary>The emulator's ARN of the IAM user behind <paramref name="accessKeyId"/>.</summary>
    public static string UserArn(KmsEmulatorOptions options, string accessKeyId)
    {
        ArgumentNullException.ThrowIfNull(options);
        return $"arn:aws:iam::{options.AccountId}:user/{accessKeyId}";
    }

    /// <summary>The role the CspAccount sample assumes (config/samples): the operator's principal for every KMS call in the seed.</summary>
    public static string RoleArn(KmsEmulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return $"arn:aws:iam::{options.AccountId}:role/xks-operator";
    }

    /// <summary>
    /// Holds the operator to the shipped policies: the sample's role (<see cref="RoleArn"/>) to the KMS one, and the IAM
    /// user behind <paramref name="accessKeyId"/> (the CspAccount's Secret) to the KMS one plus the access-key rotation
    /// one, both attached to the user as docs/eks.md says.
    /// </summary>
    public static void Apply(KmsEmulatorOptions options, string accessKeyId)
    {
        ArgumentNullException.ThrowIfNull(options);
        var user = JsonNode.Parse(Json)!;
        foreach (var statement in Statements(JsonNode.Parse(AccessKeyRotationJson)!))
        {
            Statements(user).Add(statement!.DeepClone());
        }

        options.IdentityPolicies[UserArn(options, accessKeyId)] = user.ToJsonString();
        options.IdentityPolicies[RoleArn(options)] = Json;
    }

    /// <summary>Every action <paramref name="json"/> allows, with its statement and the policy without that one action (a statement left with none goes).</summary>
    public static IEnumerable<(string Sid, string Action, string PolicyWithout)> EachActionRemoved(string json)
    {
        var statements = Statements(JsonNode.Parse(json)!);
        for (var s = 0; s < statements.Count; s++)
        {
            var sid = statements[s]!["Sid"]!.GetValue<string>();
            foreach (var action in Actions(statements[s]!))
            {
                var policy = JsonNode.Parse(json)!;
                var copy = Statements(policy);
                var remaining = Actions(copy[s]!).Where(a => a != action).ToList();
                if (remaining.Count == 0)
                {
                    copy.RemoveAt(s);
                }
                else
                {
                    copy[s]!["Action"] = new JsonArray([.. remaining.Select(a => (JsonNode)JsonValue.Create(a))]);
                }

                yield return (sid, action, policy.ToJsonString());
            }
        }
    }

    private static JsonArray Statements(JsonNode policy) => policy["Statement"]!.AsArray();

    private static List<string> Actions(JsonNode statement) => statement["Action"] switch
    {
        JsonArray many => [.. many.Select(a => a!.GetValue<string>())],
        { } one => [one.GetValue<string>()],
        null => [],
    };
}
