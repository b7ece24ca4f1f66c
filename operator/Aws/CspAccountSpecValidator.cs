using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Aws;

/// <summary>Cross-field rules of a CspAccount's (or a ClusterCspAccount's) spec the CRD schema cannot express (pure). Each problem names its field.</summary>
public static class CspAccountSpecValidator
{
    public static IReadOnlyList<string> Validate(V1Alpha1CspAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return Validate(account.Spec ?? new V1Alpha1CspAccountSpec());
    }

    /// <summary>The rules for the spec of a CspAccount or a ClusterCspAccount.</summary>
    public static IReadOnlyList<string> Validate(V1Alpha1CspAccountSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.Region))
        {
            problems.Add("spec.region is required");
        }

        var credentials = spec.Credentials ?? new V1Alpha1AwsCredentials();
        switch (credentials.Source)
        {
            case V1Alpha1CredentialsSource.Secret when credentials.SecretRef is null || string.IsNullOrWhiteSpace(credentials.SecretRef.Name):
                problems.Add("spec.credentials.secretRef.name is required with credentials.source Secret");
                break;
            case V1Alpha1CredentialsSource.Secret:
                var reference = credentials.SecretRef!;
                if (string.IsNullOrWhiteSpace(reference.AccessKeyIdKey) || string.IsNullOrWhiteSpace(reference.SecretAccessKeyKey))
                {
                    problems.Add("spec.credentials.secretRef.accessKeyIdKey and secretAccessKeyKey must not be empty");
                }
                else if (reference.AccessKeyIdKey == reference.SecretAccessKeyKey || reference.AccessKeyIdKey == reference.SessionTokenKey || reference.SecretAccessKeyKey == reference.SessionTokenKey)
                {
                    problems.Add("spec.credentials.secretRef: accessKeyIdKey, secretAccessKeyKey and sessionTokenKey must name different keys");
                }

                break;
            case V1Alpha1CredentialsSource.Default when credentials.SecretRef is not null:
                problems.Add("spec.credentials.secretRef is only used with credentials.source Secret; remove it or set source: Secret");
                break;
        }

        if (credentials.AccessKeyRotation is { } rotation)
        {
            problems.AddRange(AccessKeyRotationProblems(credentials, rotation));
        }

        if (spec.AssumeRole is { } role && string.IsNullOrWhiteSpace(role.RoleArn))
        {
            problems.Add("spec.assumeRole.roleArn is required when assumeRole is set");
        }

        if (!string.IsNullOrEmpty(spec.Endpoint))
        {
            if (!Uri.TryCreate(spec.Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                problems.Add($"spec.endpoint must be an absolute http(s) URL, got '{spec.Endpoint}'");
            }
            else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                problems.Add("spec.endpoint must not have a query, a fragment or user info");
            }
        }

        return problems;
    }

    /// <summary>Shortest <c>accessKeyRotation.every</c>: IAM's create dates and the steps need minutes, not seconds.</summary>
    public static readonly TimeSpan MinimumRotationInterval = TimeSpan.FromHours(1);

    private static IEnumerable<string> AccessKeyRotationProblems(V1Alpha1AwsCredentials credentials, V1Alpha1AccessKeyRotation rotation)
    {
        if (credentials.Source != V1Alpha1CredentialsSource.Secret)
        {
            yield return "spec.credentials.accessKeyRotation needs credentials.source Secret: the operator rotates the IAM user access key it reads from secretRef, and has no key to rotate with the SDK's default chain";
        }
        else if (!string.IsNullOrEmpty(credentials.SecretRef?.SessionTokenKey))
        {
            yield return "spec.credentials.accessKeyRotation needs long-term IAM user keys: with secretRef.sessionTokenKey the Secret holds temporary credentials, which IAM cannot rotate";
        }

        if (!GoDuration.TryParse(rotation.Every, allowDays: true, out var every))
        {
            yield return $"spec.credentials.accessKeyRotation.every must be a duration such as 90d or 2160h, got '{rotation.Every}'";
        }
        else if (every < MinimumRotationInterval)
        {
            yield return $"spec.credentials.accessKeyRotation.every must be at least 1h, got '{rotation.Every}' (rotate now with the annotation xks.dev/rotate-access-key)";
        }

        if (!string.IsNullOrEmpty(rotation.GracePeriod) && !GoDuration.TryParse(rotation.GracePeriod, allowDays: true, out _))
        {
            yield return $"spec.credentials.accessKeyRotation.gracePeriod must be a duration such as 1h or 1d, got '{rotation.GracePeriod}'";
        }
    }
}
