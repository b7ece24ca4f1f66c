using System.Text;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// A Shamir Vault's keyring Secret, <c>&lt;vault&gt;-keyring</c>: the keyring document (root keys sealed under the
/// custodians' unseal key, with key-check values; nothing in it opens a key without k shares). Made once by the
/// custodians' <c>xks-operator shamir init</c>, never by the reconcilers. Like the master key it has no owner reference
/// and carries the <see cref="KeyCustody"/> finalizer and keep annotations: losing it loses every key of the Vault.
/// Pure.
/// </summary>
public static class KeyringSecretBuilder
{
    public static V1Secret Build(V1Alpha1Vault vault, string keyringJson)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentException.ThrowIfNullOrEmpty(keyringJson);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VaultLabels.NeverDeleteAnnotation] = "true",
            ["xks.dev/description"] = "Keyring of a Shamir Vault: its root keys sealed under the custodians' unseal key. Deleting it makes every key of the Vault unreadable.",
        };
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = KeyCustody.Protect(VaultOwnership.UnownedMetadata(vault, VaultNames.KeyringSecret(vault), annotations)),
            Type = "Opaque",
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [ProxyLayout.KeyringKey] = Encoding.UTF8.GetBytes(keyringJson) },
        };
    }
}
