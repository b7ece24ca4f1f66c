using YamlDotNet.RepresentationModel;

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

    /// <summary>Reads a rendered config; anything unreadable counts as serving nothing.</summary>
    public static ServedProxyConfig Parse(string? yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml))
        {
            return Empty;
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StringReader(yaml);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return Empty;
        }

        var accessKeyIds = new HashSet<string>(StringComparer.Ordinal);
        var keys = new Dictionary<string, bool>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || Child(root, "keyStores") is not YamlSequenceNode stores)
        {
            return Empty;
        }

        foreach (var store in stores.OfType<YamlMappingNode>())
        {
            foreach (var credential in (Child(store, "credentials") as YamlSequenceNode)?.OfType<YamlMappingNode>() ?? [])
            {
                if (Scalar(credential, "accessKeyId") is { } id)
                {
                    accessKeyIds.Add(id);
                }
            }

            foreach (var key in (Child(store, "keys") as YamlSequenceNode)?.OfType<YamlMappingNode>() ?? [])
            {
                if (Scalar(key, "id") is { } id)
                {
                    keys[id] = Scalar(key, "enabled") is not { } enabled || !string.Equals(enabled, "false", StringComparison.OrdinalIgnoreCase);
                }
            }
        }

        return new ServedProxyConfig(accessKeyIds, keys);
    }

    private static YamlNode? Child(YamlMappingNode node, string name) =>
        node.Children.TryGetValue(new YamlScalarNode(name), out var child) ? child : null;

    private static string? Scalar(YamlMappingNode node, string name) => (Child(node, name) as YamlScalarNode)?.Value;
}
