using Xks.KmsEmulator.Kms;

namespace Xks.KmsEmulator.Policies;

/// <summary>
/// One request as the policy engine sees it. <paramref name="Action"/> is <c>service:Operation</c> (e.g.
/// <c>kms:Decrypt</c>); <paramref name="Resource"/> the key ARN or <c>*</c>; <paramref name="Context"/> the condition
/// keys (case-insensitive names, e.g. kms:ViaService, kms:EncryptionContext:&lt;k&gt;); <paramref name="EncryptionContext"/>
/// the request's encryption context (for grant constraints).
/// </summary>
internal sealed record PolicyRequest(
    string PrincipalArn,
    string PrincipalAccount,
    string Action,
    string Resource,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Context,
    IReadOnlyDictionary<string, string>? EncryptionContext = null)
{
    /// <summary>The IAM identity (user or role ARN) behind <see cref="PrincipalArn"/>.</summary>
    public string IdentityArn => PrincipalArns.IdentityOf(PrincipalArn);

    /// <summary>The KMS operation name (<c>Decrypt</c> of <c>kms:Decrypt</c>).</summary>
    public string Operation => Action[(Action.IndexOf(':', StringComparison.Ordinal) + 1)..];
}

public enum PolicyEffect
{
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// <summary>Which kind of policy decided.</summary>
public enum PolicySource
{
    KeyPolicy,
    Grant,
    IdentityPolicy,
}

/// <summary>
/// The outcome: <see cref="DecidedBy"/> is the deciding statement's Sid (<c>#&lt;index&gt;</c> when it has none) or
/// <c>grant:&lt;id&gt;</c>; for an implicit deny, <see cref="Source"/> says what was missing (the key policy neither named
/// the caller nor delegated to IAM, or no identity-based policy allowed).
/// </summary>
internal sealed record PolicyDecision(PolicyEffect Effect, PolicySource Source, string? DecidedBy)
{
    public bool IsAllowed => Effect == PolicyEffect.Allow;

    /// <summary>AWS's AccessDeniedException message for a refused request.</summary>
    public string DeniedMessage(PolicyRequest request) =>
        $"User: {request.PrincipalArn} is not authorized to perform: {request.Action} on resource: {request.Resource} " + (Effect, Source) switch
        {
            (PolicyEffect.ExplicitDeny, PolicySource.KeyPolicy) => "with an explicit deny in a key policy",
            (PolicyEffect.ExplicitDeny, _) => "with an explicit deny in an identity-based policy",
            (_, PolicySource.KeyPolicy) => $"because no resource-based policy allows the {request.Action} action",
            _ => $"because no identity-based policy allows the {request.Action} action",
        };
}

/// <summary>
/// AWS KMS's authorization model, pure: an explicit Deny in the key policy or an identity policy wins; a key-policy
/// Allow that names the caller (user, role, or "*") is enough by itself, as is a grant to the caller; a key-policy
/// Allow to the caller's account (<c>{"AWS": "arn:aws:iam::&lt;acct&gt;:root"}</c> or <c>"&lt;acct&gt;"</c>) delegates to
/// IAM, and then an identity policy must allow too. Without a key (CreateKey, ListKeys, IAM or STS actions) only the
/// identity policies count (<see cref="Authorize"/>).
/// </summary>
internal static class PolicyEvaluator
{
    private enum PrincipalMatch
    {
        None,
        Account,
        Direct,
    }

    /// <summary>Identity policies only (no resource policy): for key-less KMS calls and, later, IAM and STS actions.</summary>
    public static bool Authorize(IReadOnlyList<PolicyDocument> identityPolicies, PolicyRequest request) =>
        Evaluate(null, [], identityPolicies, request).IsAllowed;

    /// <param name="keyPolicy">The key's policy; null when the request has no key (identity policies decide alone).</param>
    /// <param name="grants">The key's grants.</param>
    /// <param name="identityPolicies">The caller's identity-based policies.</param>
    /// <param name="request">The request.</param>
    public static PolicyDecision Evaluate(PolicyDocument? keyPolicy, IReadOnlyList<GrantRecord> grants, IReadOnlyList<PolicyDocument> identityPolicies, PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(grants);
        ArgumentNullException.ThrowIfNull(identityPolicies);
        ArgumentNullException.ThrowIfNull(request);
        var keyStatements = keyPolicy?.Statements.Select((s, i) => (Statement: s, Index: i)).ToList() ?? [];
        var identityStatements = identityPolicies.SelectMany(p => p.Statements.Select((s, i) => (Statement: s, Index: i))).ToList();

        foreach (var (statement, index) in keyStatements)
        {
            if (!statement.IsAllow && PrincipalOf(statement, request) != PrincipalMatch.None && Applies(statement, request))
            {
                return new PolicyDecision(PolicyEffect.ExplicitDeny, PolicySource.KeyPolicy, NameOf(statement, index));
            }
        }

        foreach (var (statement, index) in identityStatements)
        {
            if (!statement.IsAllow && Applies(statement, request))
            {
                return new PolicyDecision(PolicyEffect.ExplicitDeny, PolicySource.IdentityPolicy, NameOf(statement, index));
            }
        }

        var delegated = keyPolicy is null;
        foreach (var (statement, index) in keyStatements)
        {
            if (!statement.IsAllow || !Applies(statement, request))
            {
                continue;
            }

            switch (PrincipalOf(statement, request))
            {
                case PrincipalMatch.Direct:
                    return new PolicyDecision(PolicyEffect.Allow, PolicySource.KeyPolicy, NameOf(statement, index));
                case PrincipalMatch.Account:
                    delegated = true;
                    break;
            }
        }

        if (keyPolicy is not null
            && grants.FirstOrDefault(g => g.IsGrantee(request.PrincipalArn, request.IdentityArn) && g.Operations.Contains(request.Operation) && g.Admits(request.EncryptionContext)) is { } grant)
        {
            return new PolicyDecision(PolicyEffect.Allow, PolicySource.Grant, "grant:" + grant.GrantId);
        }

        if (!delegated)
        {
            return new PolicyDecision(PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, null);
        }

        foreach (var (statement, index) in identityStatements)
        {
            if (statement.IsAllow && Applies(statement, request))
            {
                return new PolicyDecision(PolicyEffect.Allow, PolicySource.IdentityPolicy, NameOf(statement, index));
            }
        }

        return new PolicyDecision(PolicyEffect.ImplicitDeny, PolicySource.IdentityPolicy, null);
    }

    private static string NameOf(PolicyStatement statement, int index) => statement.Sid is { Length: > 0 } sid ? sid : "#" + index;

    /// <summary>Action, resource and every condition match (the principal is checked separately).</summary>
    private static bool Applies(PolicyStatement statement, PolicyRequest request)
    {
        var named = statement.Actions.Any(a => Wildcard.Matches(a, request.Action, ignoreCase: true));
        return named != statement.NotAction
            && statement.Resources.Any(r => Wildcard.Matches(r, request.Resource, ignoreCase: false))
            && statement.Conditions.All(c => Holds(c, request.Context));
    }

    private static PrincipalMatch PrincipalOf(PolicyStatement statement, PolicyRequest request)
    {
        if (statement.Principal is not { } principal)
        {
            return PrincipalMatch.None;
        }

        if (principal.Anyone)
        {
            return PrincipalMatch.Direct;
        }

        var match = PrincipalMatch.None;
        foreach (var arn in principal.Aws)
        {
            if (arn == request.IdentityArn || arn == request.PrincipalArn)
            {
                return PrincipalMatch.Direct;
            }

            if (PrincipalArns.DelegatingAccount(arn) == request.PrincipalAccount)
            {
                match = PrincipalMatch.Account;
            }
        }

        return match;
    }

    /// <summary>One condition against the request's condition keys (IAM semantics, see the remarks of each branch).</summary>
    internal static bool Holds(PolicyCondition condition, IReadOnlyDictionary<string, IReadOnlyList<string>> context)
    {
        var present = context.TryGetValue(condition.Key, out var values) && values.Count > 0;
        if (condition.Operator == "Null")
        {
            // {"Null": {"k": "true"}}: the key is absent.
            return condition.Values.Any(v => bool.Parse(v) != present);
        }

        var negated = condition.Operator.Contains("Not", StringComparison.Ordinal);
        if (!present)
        {
            // A missing key: ForAllValues holds vacuously; IfExists and the negated operators hold; the rest fail.
            return condition.SetQualifier == "ForAllValues" || condition.IfExists || negated;
        }

        var positive = negated ? condition.Operator.Replace("Not", "", StringComparison.Ordinal) : condition.Operator;
        bool Matches(string value) => condition.Values.Any(pattern => Compare(positive, pattern, value)) != negated;
        return condition.SetQualifier == "ForAllValues" ? values!.All(Matches) : values!.Any(Matches);
    }

    private static bool Compare(string op, string pattern, string value) => op switch
    {
        "StringEquals" => string.Equals(pattern, value, StringComparison.Ordinal),
        "StringEqualsIgnoreCase" => string.Equals(pattern, value, StringComparison.OrdinalIgnoreCase),
        "StringLike" or "ArnLike" or "ArnEquals" => Wildcard.Matches(pattern, value, ignoreCase: false),
        "Bool" => string.Equals(pattern, value, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
