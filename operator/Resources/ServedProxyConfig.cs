using Xks.Contracts.ProxyConfig;

namespace Xks.Operator.Resources;

/// <summary>
/// What a rendered proxy config (the <c>proxy.yaml</c> of a Vault's config Secret) serves, read back: the SigV4 access
/// key IDs and the keys with their enabled flag. The KeySet and CloudKey reconcilers use it to act on AWS only once the
/// proxy has what AWS will ask for (a new credential before UpdateCustomKeyStore, a key before CreateKey, a key
/// switched off before DisableKey). Never holds a secret.
/// </summary>
public sealed class ServedProxyConfig
{
    private ServedProxyConfig(IReadOnlySet<string> accessKeyIds, IReadOnlyDictionary<string, bool> keys)
    {
        AccessKeyIds = accessKeyIds;
        Keys = keys;
    }

    public static ServedProxyConfig Empty { get; } = new(new HashSet<string>(), new Dictionary<string, bool>());

    /// <summary>Every access key ID the proxy accepts, across key stores.</summary>
    public IReadOnlySet<string> AccessKeyIds { get; }

    /// <summary>Every externalKeyId the proxy serves, with its enabled flag.</summary>
    public IReadOnlyDictionary<string, bool> Keys { get; }

    /// <summary>Reads a rendered config with the proxy's own parser; anything unreadable counts as serving nothing.</summary>
    public static ServedProxyConfig Parse(string? yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml) || ProxyConfigYaml.Parse(yaml).Options is not { } options)
        {
            return Empty;
        }

        var stores = options.KeyStores.Where(s => s is not null).ToList();
        var accessKeyIds = stores
            .SelectMany(s => s.Credentials)
            .Where(c => !string.IsNullOrEmpty(c?.AccessKeyId))
            .Select(c => c.AccessKeyId)
            .ToHashSet(StringComparer.Ordinal);
        var keys = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var key in stores.SelectMany(s => s.Keys).Where(k => !string.IsNullOrEmpty(k?.Id)))
        {
            keys[key.Id] = key.Enabled;
        }

        return new ServedProxyConfig(accessKeyIds, keys);
    }
}
