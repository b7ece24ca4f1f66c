using System.Collections.Concurrent;
using System.Text.Json;
using Xks.KmsEmulator.Auth;
using Xks.KmsEmulator.Crypto;
using Xks.KmsEmulator.Kms;

namespace Xks.KmsEmulator.Policies;

/// <summary>
/// Authorizes one KMS call before it runs: finds the key it targets (aliases resolve to their key; a Decrypt without
/// KeyId uses the ciphertext's key), builds the condition keys, and asks <see cref="PolicyEvaluator"/> with the key
/// policy, the key's grants and the caller's identity policy. Key-less operations (CreateKey, ListKeys, ListAliases,
/// the custom key store calls) are decided by the identity policy alone, on resource <c>*</c>. A caller without an
/// identity policy (<see cref="KmsEmulatorOptions.IdentityPolicies"/>) is not evaluated. A key that cannot be found is
/// left to the operation (which answers NotFoundException, as it would have).
/// </summary>
internal sealed class KmsAuthorizer
{
    /// <summary>The request header by which a test says "an AWS service makes this call on the caller's behalf".</summary>
    public const string ViaServiceHeader = "X-Emulator-Via-Service";

    private static readonly HashSet<string> KeylessOperations = new(StringComparer.Ordinal)
    {
        "CreateKey", "ListKeys", "ListAliases", "GenerateRandom", "ListRetirableGrants", "CreateCustomKeyStore", "ConnectCustomKeyStore",
        "DisconnectCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore", "DeleteCustomKeyStore",
    };

    /// <summary>How many evaluated requests <see cref="DeniedUnder"/> can replay (the oldest go first).</summary>
    private const int EvaluationCapacity = 20_000;

    private static readonly HashSet<string> GrantOperationsWithServiceFlag = new(StringComparer.Ordinal) { "CreateGrant", "ListGrants", "RevokeGrant" };

    private readonly KmsState _state;
    private readonly KeyResolver _resolver;
    private readonly GrantStore _grants;
    private readonly GrantOperations _grantOperations;
    private readonly IdentityPolicyStore _identities;
    private readonly ConcurrentQueue<Evaluation> _evaluations = new();

    public KmsAuthorizer(KmsState state, KeyResolver resolver, GrantStore grants, GrantOperations grantOperations, IdentityPolicyStore identities)
    {
        _state = state;
        _resolver = resolver;
        _grants = grants;
        _grantOperations = grantOperations;
        _identities = identities;
    }

    /// <summary>
    /// The decision for an evaluated caller (null for an unrestricted caller, or a key that does not exist); throws
    /// AccessDeniedException when refused.
    /// </summary>
    public PolicyDecision? Authorize(string operation, byte[] body, Caller caller, string? viaService)
    {
        if (!_identities.TryGet(caller.Arn, out var identityPolicy))
        {
            return null;
        }

        using var document = ParseOrNull(body);
        var root = document?.RootElement;
        var encryptionContext = root is { } r ? EncryptionContextOf(r) : null;
        var context = ConditionKeys(operation, root, caller, viaService, encryptionContext);
        var action = "kms:" + operation;

        PolicyDocument? keyPolicy = null;
        IReadOnlyList<GrantRecord> grants = [];
        var resource = "*";
        if (!KeylessOperations.Contains(operation))
        {
            lock (_state.Gate)
            {
                if (operation == "RetireGrant" && RetireeDecision(root, caller) is { } retiree)
                {
                    return retiree;
                }

                if (KeyOf(operation, root) is not { } key)
                {
                    return null;
                }

                resource = key.Arn;
                grants = _grants.ForKey(key.KeyId);
                keyPolicy = PolicyDocument.Parse(key.Policy, PolicyKind.Key);
            }
        }

        var request = new PolicyRequest(caller.Arn, caller.Account, action, resource, context, encryptionContext);
        var decision = Decide(new Evaluation(keyPolicy, grants, request));
        if (decision.IsAllowed && operation == "CreateKey" && HasTags(root))
        {
            // AWS: "To use the Tags parameter, you must have kms:TagResource permission in an IAM policy."
            decision = Decide(new Evaluation(null, [], request with { Action = "kms:TagResource" }));
        }

        return decision;

        PolicyDecision Decide(Evaluation evaluation)
        {
            var verdict = PolicyEvaluator.Evaluate(evaluation.KeyPolicy, evaluation.Grants, [identityPolicy], evaluation.Request);
            Remember(evaluation);
            return verdict.IsAllowed ? verdict : throw new KmsException("AccessDeniedException", verdict.DeniedMessage(evaluation.Request));
        }
    }

    /// <summary>
    /// An IAM action (<c>iam:CreateAccessKey</c>) on an IAM resource, decided by the caller's identity policy alone (IAM
    /// users and roles carry no resource policy); <c>${aws:username}</c> resolves to the calling user's name. Null for an
    /// unrestricted caller; throws <see cref="UnauthorizedAccessException"/> with AWS's message when refused.
    /// </summary>
    public PolicyDecision? AuthorizeIdentity(string action, string resource, Caller caller)
    {
        const string marker = ":user/";
        var at = caller.Arn.IndexOf(marker, StringComparison.Ordinal);
        var userName = at < 0 ? null : caller.Arn[(at + marker.Length)..].Split('/')[^1];
        if (!_identities.TryGet(caller.Arn, userName, out var identityPolicy))
        {
            return null;
        }

        var context = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:PrincipalAccount"] = [caller.Account],
            ["aws:PrincipalArn"] = [PrincipalArns.IdentityOf(caller.Arn)],
        };
        var evaluation = new Evaluation(null, [], new PolicyRequest(caller.Arn, caller.Account, action, resource, context), userName);
        var verdict = PolicyEvaluator.Evaluate(null, [], [identityPolicy], evaluation.Request);
        Remember(evaluation);
        return verdict.IsAllowed ? verdict : throw new UnauthorizedAccessException(verdict.DeniedMessage(evaluation.Request));
    }

    /// <summary>
    /// The evaluated requests of <paramref name="identityArn"/> (an IAM user or role ARN) that
    /// <paramref name="identityPolicyJson"/> would deny, with the key policies and grants they were evaluated against:
    /// how a test shows that every statement of an identity policy is needed (drop it, replay, find a denial).
    /// </summary>
    public IReadOnlyList<string> DeniedUnder(string identityArn, string identityPolicyJson)
    {
        return [.. _evaluations
            .Where(e => e.Request.IdentityArn == identityArn)
            .Where(e => !PolicyEvaluator.Evaluate(e.KeyPolicy, e.Grants, [Resolved(identityPolicyJson, e.UserName)], e.Request).IsAllowed)
            .Select(e => $"{e.Request.Action} on {e.Request.Resource}")
            .Distinct(StringComparer.Ordinal)];
    }

    private static PolicyDocument Resolved(string json, string? userName) =>
        PolicyDocument.Parse(userName is null ? json : json.Replace("${aws:username}", userName, StringComparison.Ordinal), PolicyKind.Identity);

    private void Remember(Evaluation evaluation)
    {
        _evaluations.Enqueue(evaluation);
        while (_evaluations.Count > EvaluationCapacity && _evaluations.TryDequeue(out _))
        {
        }
    }

    private static bool HasTags(JsonElement? root) =>
        root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty("Tags", out var tags) && tags.ValueKind == JsonValueKind.Array && tags.GetArrayLength() > 0;

    /// <summary>The retiring principal (or a grantee whose grant includes RetireGrant) may retire a grant without any policy.</summary>
    private PolicyDecision? RetireeDecision(JsonElement? root, Caller caller)
    {
        try
        {
            var grant = _grantOperations.Find(new GrantIdRequest { KeyId = Text(root, "KeyId"), GrantId = Text(root, "GrantId"), GrantToken = Text(root, "GrantToken") });
            var identity = PrincipalArns.IdentityOf(caller.Arn);
            var retiree = grant.RetiringPrincipal == caller.Arn || grant.RetiringPrincipal == identity
                || (grant.IsGrantee(caller.Arn, identity) && grant.Operations.Contains("RetireGrant"));
            return retiree ? new PolicyDecision(PolicyEffect.Allow, PolicySource.Grant, "grant:" + grant.GrantId) : null;
        }
        catch (KmsException)
        {
            return null;
        }
    }

    /// <summary>The key the operation acts on, or null when it cannot be found (the operation reports that). Call under the lock.</summary>
    private KeyRecord? KeyOf(string operation, JsonElement? root)
    {
        var reference = operation switch
        {
            "CreateAlias" or "UpdateAlias" => Text(root, "TargetKeyId"),
            "DeleteAlias" => Text(root, "AliasName"),
            "RetireGrant" when Text(root, "GrantToken") is { Length: > 0 } token => _grants.FindByToken(token)?.KeyId,
            "Decrypt" => Text(root, "KeyId") ?? CiphertextKeyId(root),
            _ => Text(root, "KeyId"),
        };
        if (reference is null)
        {
            return null;
        }

        try
        {
            return _resolver.Resolve(reference);
        }
        catch (KmsException)
        {
            return null;
        }
    }

    private static Dictionary<string, IReadOnlyList<string>> ConditionKeys(
        string operation, JsonElement? root, Caller caller, string? viaService, IReadOnlyDictionary<string, string>? encryptionContext)
    {
        var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["kms:CallerAccount"] = [caller.Account],
            ["aws:PrincipalAccount"] = [caller.Account],
            ["aws:PrincipalArn"] = [PrincipalArns.IdentityOf(caller.Arn)],
        };
        if (viaService is { Length: > 0 })
        {
            keys["kms:ViaService"] = [viaService];
        }

        if (operation == "CreateKey")
        {
            keys["kms:KeyOrigin"] = [Text(root, "Origin") ?? "AWS_KMS"];
        }

        if (GrantOperationsWithServiceFlag.Contains(operation))
        {
            keys["kms:GrantIsForAWSResource"] = [viaService is { Length: > 0 } ? "true" : "false"];
        }

        if (encryptionContext is not null)
        {
            foreach (var (key, value) in encryptionContext)
            {
                keys["kms:EncryptionContext:" + key] = [value];
            }

            keys["kms:EncryptionContextKeys"] = [.. encryptionContext.Keys];
        }

        if (operation == "CreateGrant" && root is { } request)
        {
            if (request.TryGetProperty("Operations", out var operations) && operations.ValueKind == JsonValueKind.Array)
            {
                keys["kms:GrantOperations"] = [.. operations.EnumerateArray().Where(o => o.ValueKind == JsonValueKind.String).Select(o => o.GetString()!)];
            }

            if (Text(request, "GranteePrincipal") is { } grantee)
            {
                keys["kms:GranteePrincipal"] = [grantee];
            }

            if (Text(request, "RetiringPrincipal") is { } retiring)
            {
                keys["kms:RetiringPrincipal"] = [retiring];
            }
        }

        return keys;
    }

    /// <summary>The request's EncryptionContext (crypto operations), or the CreateGrant constraints' context.</summary>
    private static Dictionary<string, string>? EncryptionContextOf(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("EncryptionContext", out var context) || context.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in context.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                pairs[property.Name] = property.Value.GetString()!;
            }
        }

        return pairs;
    }

    private static string? CiphertextKeyId(JsonElement? root)
    {
        if (Text(root, "CiphertextBlob") is not { } base64)
        {
            return null;
        }

        try
        {
            return CiphertextBlob.TryParse(Convert.FromBase64String(base64), out var blob) ? blob.KeyId : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement? root, string name) =>
        root is { ValueKind: JsonValueKind.Object } element && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static JsonDocument? ParseOrNull(byte[] body)
    {
        try
        {
            return body.Length == 0 ? null : JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>One evaluated request with the key policy and grants it met, kept for <see cref="KmsAuthorizer.DeniedUnder"/>.</summary>
internal sealed record Evaluation(PolicyDocument? KeyPolicy, IReadOnlyList<GrantRecord> Grants, PolicyRequest Request, string? UserName = null);
