using System.Text.Json;

namespace Xks.KmsEmulator.Kms;

/// <summary>The default key policy (the account's root may do everything) and the check that a policy is a JSON policy document.</summary>
internal static class KeyPolicies
{
    public static string Default(string accountId) =>
        $$"""{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{accountId}}:root"},"Action":"kms:*","Resource":"*"}]}""";

    public static string Validate(string? policy)
    {
        if (string.IsNullOrEmpty(policy) || policy.Length > 32768)
        {
            throw new KmsException("MalformedPolicyDocumentException", "The key policy is empty or larger than 32 KB.");
        }

        try
        {
            using var document = JsonDocument.Parse(policy);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("Statement", out var statement)
                || statement.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object))
            {
                throw new KmsException("MalformedPolicyDocumentException", "The key policy must be a JSON object with a Statement.");
            }
        }
        catch (JsonException)
        {
            throw new KmsException("MalformedPolicyDocumentException", "The key policy is not valid JSON.");
        }

        return policy;
    }
}
