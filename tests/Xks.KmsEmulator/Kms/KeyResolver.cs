namespace Xks.KmsEmulator.Kms;

/// <summary>Finds a key by key id, key ARN, alias name or alias ARN, as KMS accepts them. Call under the lock.</summary>
internal sealed class KeyResolver
{
    private readonly KmsState _state;
    private readonly string _arnPrefix;

    public KeyResolver(KmsState state, KmsEmulatorOptions options)
    {
        _state = state;
        _arnPrefix = $"arn:aws:kms:{options.Region}:{options.AccountId}:";
    }

    public string KeyArn(string keyId) => _arnPrefix + "key/" + keyId;

    public string AliasArn(string aliasName) => _arnPrefix + aliasName;

    public KeyRecord Resolve(string? keyId, bool allowAlias = true)
    {
        if (string.IsNullOrEmpty(keyId))
        {
            throw KmsException.Validation("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
        }

        var name = keyId;
        if (keyId.StartsWith("arn:", StringComparison.Ordinal))
        {
            if (!keyId.StartsWith(_arnPrefix, StringComparison.Ordinal))
            {
                throw KmsException.NotFound($"Key '{keyId}' does not exist");
            }

            name = keyId[_arnPrefix.Length..];
            if (name.StartsWith("key/", StringComparison.Ordinal))
            {
                name = name["key/".Length..];
            }
            else if (!name.StartsWith("alias/", StringComparison.Ordinal))
            {
                throw new KmsException("InvalidArnException", $"'{keyId}' is not a KMS key or alias ARN.");
            }
        }

        if (name.StartsWith("alias/", StringComparison.Ordinal))
        {
            if (!allowAlias)
            {
                throw KmsException.Validation($"'{keyId}' is an alias; specify a key id or key ARN.");
            }

            if (!_state.Aliases.TryGetValue(name, out var alias))
            {
                throw KmsException.NotFound($"Alias '{AliasArn(name)}' is not found.");
            }

            name = alias.TargetKeyId;
        }

        return _state.Keys.FirstOrDefault(k => k.KeyId == name) ?? throw KmsException.NotFound($"Key '{KeyArn(name)}' does not exist");
    }
}
