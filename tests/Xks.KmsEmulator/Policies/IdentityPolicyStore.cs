using System.Collections.Concurrent;
using Xks.KmsEmulator.Kms;

namespace Xks.KmsEmulator.Policies;

/// <summary>
/// The identity-based policies of <see cref="KmsEmulatorOptions.IdentityPolicies"/>, parsed once per text. An identity
/// without an entry is unrestricted: its calls are not evaluated at all (the emulator's behaviour before policies).
/// </summary>
internal sealed class IdentityPolicyStore
{
    private readonly KmsEmulatorOptions _options;
    private readonly ConcurrentDictionary<string, PolicyDocument> _parsed = new(StringComparer.Ordinal);

    public IdentityPolicyStore(KmsEmulatorOptions options)
    {
        _options = options;
        foreach (var (arn, json) in options.IdentityPolicies)
        {
            try
            {
                Parse(json);
            }
            catch (KmsException ex)
            {
                throw new ArgumentException($"The identity policy of {arn} is malformed: {ex.Message}", nameof(options));
            }
        }
    }

    /// <summary>The policy of the identity behind <paramref name="callerArn"/> (user ARN, or the role of an assumed-role session).</summary>
    public bool TryGet(string callerArn, out PolicyDocument policy)
    {
        if (_options.IdentityPolicies.TryGetValue(PrincipalArns.IdentityOf(callerArn), out var json))
        {
            policy = Parse(json);
            return true;
        }

        policy = null!;
        return false;
    }

    /// <summary>
    /// The policy of the identity behind <paramref name="callerArn"/> with the policy variable <c>${aws:username}</c>
    /// replaced by <paramref name="userName"/> (IAM user callers; IAM resolves it per request).
    /// </summary>
    public bool TryGet(string callerArn, string? userName, out PolicyDocument policy)
    {
        if (_options.IdentityPolicies.TryGetValue(PrincipalArns.IdentityOf(callerArn), out var json))
        {
            policy = Parse(userName is null ? json : json.Replace("${aws:username}", userName, StringComparison.Ordinal));
            return true;
        }

        policy = null!;
        return false;
    }

    private PolicyDocument Parse(string json) => _parsed.GetOrAdd(json, text => PolicyDocument.Parse(text, PolicyKind.Identity));
}
