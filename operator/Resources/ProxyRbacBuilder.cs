using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The proxy's identity: a ServiceAccount whose Role can read exactly its own Secrets (the config Secret it watches and
/// the master key) and nothing else — no list of other Secrets, no write.
/// </summary>
public static class ProxyRbacBuilder
{
    /// <summary>
    /// The token is mounted (automountServiceAccountToken true): the proxy uses it to watch its config Secret.
    /// </summary>
    public static V1ServiceAccount BuildServiceAccount(V1Alpha1Vault vault) => new()
    {
        ApiVersion = "v1",
        Kind = "ServiceAccount",
        Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.ServiceAccount(vault)),
        AutomountServiceAccountToken = true,
    };

    /// <summary>
    /// get/list/watch on the named Secrets only. list and watch are authorised for a resourceNames rule when the request
    /// selects that one object (fieldSelector metadata.name=…), which is how the proxy watches its config Secret.
    /// </summary>
    /// <param name="vault">The Vault.</param>
    /// <param name="additionalSecretNames">More Secrets the proxy must read (the key material of the Vault's keys).</param>
    public static V1Role BuildRole(V1Alpha1Vault vault, IEnumerable<string>? additionalSecretNames = null)
    {
        var secrets = new SortedSet<string>(StringComparer.Ordinal) { VaultNames.ConfigSecret(vault) };
        var backend = ProxyBackendModel.ForVault(vault);
        if (backend.HasMasterKey)
        {
            // A PKCS#11, HsmSealed or Shamir Vault has none (a PIN is mounted, never read through the API; a keyring is
            // rendered into the config).
            secrets.Add(VaultNames.MasterKeySecret(vault));
        }

        secrets.UnionWith(additionalSecretNames ?? []);
        return new V1Role
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "Role",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.Role(vault)),
            Rules =
            [
                new V1PolicyRule
                {
                    ApiGroups = [""],
                    Resources = ["secrets"],
                    ResourceNames = [.. secrets],
                    Verbs = ["get", "list", "watch"],
                },
            ],
        };
    }

    public static V1RoleBinding BuildRoleBinding(V1Alpha1Vault vault) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "RoleBinding",
        Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.RoleBinding(vault)),
        RoleRef = new V1RoleRef
        {
            ApiGroup = "rbac.authorization.k8s.io",
            Kind = "Role",
            Name = VaultNames.Role(vault),
        },
        Subjects =
        [
            new Rbacv1Subject
            {
                Kind = "ServiceAccount",
                Name = VaultNames.ServiceAccount(vault),
                NamespaceProperty = vault.Metadata.NamespaceProperty,
            },
        ],
    };
}
