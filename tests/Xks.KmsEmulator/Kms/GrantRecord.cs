namespace Xks.KmsEmulator.Kms;

/// <summary>One KMS grant: its grantee may call <see cref="Operations"/> on its key, within its constraints. Immutable.</summary>
internal sealed record GrantRecord(
    string GrantId,
    string GrantToken,
    string KeyId,
    string KeyArn,
    string GranteePrincipal,
    string? RetiringPrincipal,
    IReadOnlyList<string> Operations,
    IReadOnlyDictionary<string, string>? EncryptionContextSubset,
    IReadOnlyDictionary<string, string>? EncryptionContextEquals,
    string? Name,
    DateTimeOffset CreationDate,
    string IssuingAccount)
{
    /// <summary>The operations a grant may list (AWS's GrantOperation enum).</summary>
    public static readonly IReadOnlySet<string> ValidOperations = new HashSet<string>(StringComparer.Ordinal)
    {
        "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "Sign",
        "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
    };

    /// <summary>Whether <paramref name="callerArn"/> is the grantee: the principal itself, or a session of the grantee role.</summary>
    public bool IsGrantee(string callerArn, string identityArn) => GranteePrincipal == callerArn || GranteePrincipal == identityArn;

    /// <summary>Whether the request's encryption context satisfies the grant's constraints (none: always).</summary>
    public bool Admits(IReadOnlyDictionary<string, string>? context)
    {
        context ??= new Dictionary<string, string>();
        if (EncryptionContextEquals is { } equals
            && (equals.Count != context.Count || equals.Any(p => !context.TryGetValue(p.Key, out var v) || v != p.Value)))
        {
            return false;
        }

        return EncryptionContextSubset is not { } subset || subset.All(p => context.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    public override string ToString() => $"Grant({GrantId}, {KeyId}, {GranteePrincipal}, [{string.Join(", ", Operations)}])";
}
