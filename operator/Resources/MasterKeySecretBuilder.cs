using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The software backend's master key: 32 random bytes that wrap every key version of the Vault.
/// </summary>
/// <remarks>
/// <para>
/// This Secret deliberately has <b>no owner reference</b>. With one, deleting the Vault (by mistake, by a GitOps prune,
/// by deleting and re-creating it to change an immutable field) would let the garbage collector delete the master key,
/// and every key wrapped by it — every CloudKey, every ciphertext AWS holds under them — would become unreadable for
/// good. The rule is "never regenerated or deleted while any key of the Vault exists": the Vault reconciler
/// creates this Secret once (create, never apply: a second apply with fresh bytes would replace the key) and deletes it
/// only when no CloudKey of the Vault is left. A re-created Vault of the same name finds and reuses it.
/// </para>
/// <para>It carries the <see cref="KeyCustody"/> finalizer and annotations, so a hand <c>kubectl delete</c>, a Helm
/// uninstall or an Argo CD prune cannot remove it while keys need it.</para>
/// <para>The builder takes the bytes so it stays pure; the caller draws them from a CSPRNG.</para>
/// </remarks>
public static class MasterKeySecretBuilder
{
    public static V1Secret Build(V1Alpha1Vault vault, ReadOnlySpan<byte> masterKey)
    {
        if (masterKey.Length != ProxyLayout.MasterKeyLength)
        {
            throw new ArgumentException($"The master key must be {ProxyLayout.MasterKeyLength} bytes (got {masterKey.Length}).", nameof(masterKey));
        }

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VaultLabels.NeverDeleteAnnotation] = "true",
            ["xks.dev/description"] = "Master key of the Vault's software key backend. Deleting it makes every key of the Vault unreadable.",
        };
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = KeyCustody.Protect(VaultOwnership.UnownedMetadata(vault, VaultNames.MasterKeySecret(vault), annotations)),
            Type = "Opaque",
            Immutable = true,
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [ProxyLayout.MasterKeyKey] = masterKey.ToArray() },
        };
    }
}
