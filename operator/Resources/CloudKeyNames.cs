using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>Names and tags a CloudKey gives to what it makes: its external key ID, its alias, its KMS tags.</summary>
public static class CloudKeyNames
{
    /// <summary>Tag on the KMS key naming the owning CloudKey's UID: how a retried create finds what a crashed one made.</summary>
    public const string UidTag = "xks.dev/cloudkey-uid";

    /// <summary>Tag on the KMS key naming the owning CloudKey (namespace/name), for humans.</summary>
    public const string NameTag = "xks.dev/cloudkey";

    public const string ManagedByTag = "xks.dev/managed-by";

    /// <summary>The prefix of every tag the operator sets itself: reserved, spec.tags may not use it.</summary>
    public const string ReservedTagPrefix = "xks.dev/";

    /// <summary>Annotation users set on a CloudKey to add a key version now (any new value).</summary>
    public const string RotateKeyAnnotation = "xks.dev/rotate-key";

    /// <summary>Annotation users set on a KeySet to rotate its SigV4 credential now (any new value).</summary>
    public const string RotateCredentialAnnotation = "xks.dev/rotate-credential";

    /// <summary>
    /// The externalKeyId the proxy serves the key under (KMS's XksKeyId): the CloudKey's name and the start of its UID,
    /// so it is readable, stable across retries and unique per Vault. At most 128 characters of A-Z a-z 0-9 . _ -.
    /// </summary>
    public static string XksKeyId(V1Alpha1CloudKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var name = key.Metadata.Name;
        var uid = (key.Metadata.Uid ?? throw new ArgumentException("The CloudKey has no metadata.uid.", nameof(key))).Replace("-", "", StringComparison.Ordinal);
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-')]);
        return $"{(safe.Length > 100 ? safe[..100] : safe)}-{uid[..12]}";
    }

    /// <summary>
    /// The full alias name: alias/&lt;spec.alias&gt;; alias/&lt;metadata.name&gt; when spec.alias is unset; null when
    /// spec.alias is "" (no alias). Whether it is a valid alias is <see cref="Controllers.CloudKeySettingsDecisions.AliasProblem"/>'s question.
    /// </summary>
    public static string? AliasName(V1Alpha1CloudKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Spec.Alias switch
        {
            _ when !key.Spec.CreateAlias => null,
            null => "alias/" + key.Metadata.Name,
            "" => null,
            var alias => "alias/" + alias,
        };
    }

    /// <summary>The KMS key's description: spec.description, or CloudKey &lt;namespace&gt;/&lt;name&gt; (xks-operator).</summary>
    public static string Description(V1Alpha1CloudKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Spec.Description ?? $"CloudKey {key.Metadata.NamespaceProperty}/{key.Metadata.Name} (xks-operator)";
    }

    /// <summary>Tags of the KMS key, in a stable order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Tags(V1Alpha1CloudKey key) =>
    [
        new(ManagedByTag, VaultLabels.ManagedBy),
        new(NameTag, $"{key.Metadata.NamespaceProperty}/{key.Metadata.Name}"),
        new(UidTag, key.Metadata.Uid),
    ];
}
