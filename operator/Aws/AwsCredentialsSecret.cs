using System.Text;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Aws;

/// <summary>The access keys a CspAccount's Secret holds (values never leave this type except into SDK credentials).</summary>
internal sealed record AwsSecretKeys(string AccessKeyId, string SecretAccessKey, string? SessionToken)
{
    /// <summary>Hides the secret and the token.</summary>
    public override string ToString() => $"AwsSecretKeys {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***, SessionToken = {(SessionToken is null ? "none" : "***")} }}";
}

/// <summary>Reads access keys from a Secret per <c>spec.credentials.secretRef</c> (pure).</summary>
internal static class AwsCredentialsSecret
{
    /// <summary>The key a session token is read from when <c>sessionTokenKey</c> is unset, if the Secret has it.</summary>
    public const string DefaultSessionTokenKey = "sessionToken";

    /// <summary>
    /// The keys, or a problem naming the Secret and every missing or empty key (never a value). Values are trimmed
    /// (a trailing newline from <c>kubectl create secret --from-file</c> is common). An explicit
    /// <c>sessionTokenKey</c> is required; without it a <c>sessionToken</c> key is used when present.
    /// </summary>
    public static bool TryRead(V1Secret secret, V1Alpha1AwsSecretReference reference, out AwsSecretKeys? keys, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(reference);
        var missing = new List<string>();
        var accessKeyId = Read(secret, reference.AccessKeyIdKey, "accessKeyIdKey", missing);
        var secretAccessKey = Read(secret, reference.SecretAccessKeyKey, "secretAccessKeyKey", missing);
        string? sessionToken = null;
        if (!string.IsNullOrEmpty(reference.SessionTokenKey))
        {
            sessionToken = Read(secret, reference.SessionTokenKey, "sessionTokenKey", missing);
        }
        else if (Value(secret, DefaultSessionTokenKey) is { Length: > 0 } token)
        {
            sessionToken = token;
        }

        if (missing.Count > 0)
        {
            keys = null;
            problem = $"Secret {secret.Metadata.NamespaceProperty}/{secret.Metadata.Name} has no {string.Join(", no ", missing)}";
            return false;
        }

        keys = new AwsSecretKeys(accessKeyId!, secretAccessKey!, sessionToken);
        problem = null;
        return true;
    }

    private static string? Read(V1Secret secret, string key, string field, List<string> missing)
    {
        var value = Value(secret, key);
        if (string.IsNullOrEmpty(value))
        {
            missing.Add($"non-empty key '{key}' (spec.credentials.secretRef.{field})");
            return null;
        }

        return value;
    }

    private static string? Value(V1Secret secret, string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        if (secret.Data is not null && secret.Data.TryGetValue(key, out var bytes) && bytes is not null)
        {
            return Encoding.UTF8.GetString(bytes).Trim();
        }

        // stringData is write-only on the server, but a Secret built in memory may carry it.
        return secret.StringData is not null && secret.StringData.TryGetValue(key, out var text) ? text?.Trim() : null;
    }
}
