using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>Object metadata shared by every child of a Vault: name, namespace, labels and the controller reference.</summary>
public static class VaultOwnership
{
    public const string ApiVersion = "xks.dev/v1alpha1";
    public const string Kind = "Vault";

    /// <summary>
    /// The controller reference to the Vault: garbage collection deletes the child with the Vault, and the operator's
    /// owned-kind informers map the child back to the Vault's key.
    /// </summary>
    public static V1OwnerReference ControllerReference(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var metadata = vault.Metadata ?? throw new ArgumentException("The Vault has no metadata.", nameof(vault));
        if (string.IsNullOrEmpty(metadata.Uid))
        {
            throw new ArgumentException($"Vault {metadata.Name} has no metadata.uid; build children from a Vault read from the API.", nameof(vault));
        }

        return new V1OwnerReference
        {
            ApiVersion = ApiVersion,
            Kind = Kind,
            Name = metadata.Name,
            Uid = metadata.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
    }

    /// <summary>Metadata of an owned child: the Vault's namespace, all Vault labels, the controller reference.</summary>
    public static V1ObjectMeta OwnedMetadata(V1Alpha1Vault vault, string name, IDictionary<string, string>? annotations = null)
    {
        var metadata = UnownedMetadata(vault, name, annotations);
        metadata.OwnerReferences = [ControllerReference(vault)];
        return metadata;
    }

    /// <summary>Metadata without an owner reference (only the master-key Secret, see <see cref="MasterKeySecretBuilder"/>).</summary>
    public static V1ObjectMeta UnownedMetadata(V1Alpha1Vault vault, string name, IDictionary<string, string>? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = vault.Metadata.NamespaceProperty,
            Labels = VaultLabels.For(vault),
            Annotations = annotations is { Count: > 0 } ? Annotations.Sorted(annotations) : null,
        };
    }
}
