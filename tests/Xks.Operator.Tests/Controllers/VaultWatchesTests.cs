using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>Which CloudKey changes make the Vault render its config again: spec and deletion, never a status write alone.</summary>
public class VaultWatchesTests
{
    private static V1Alpha1CloudKey CloudKey(long generation, long? observed, bool deleting = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "team-a", Generation = generation, DeletionTimestamp = deleting ? DateTime.UtcNow : null },
        Spec = new V1Alpha1CloudKeySpec { KeySetRef = new V1Alpha1LocalObjectReference { Name = "payments" } },
        Status = new V1Alpha1CloudKeyStatus { ObservedGeneration = observed },
    };

    [Theory]
    [InlineData(1, null, false, true)]
    [InlineData(2, 1L, false, true)]
    [InlineData(2, 2L, false, false)]
    [InlineData(2, 2L, true, true)]
    [InlineData(3, 2L, true, true)]
    public void ConfigMayChange_GenerationObservedDeleting_OnlySpecChangesAndDeletionsRenderAgain(long generation, long? observed, bool deleting, bool renders) =>
        Assert.Equal(renders, VaultController.ConfigMayChange(CloudKey(generation, observed, deleting)));

    [Theory]
    [InlineData("xks-tls", false, "xks-tls", true)]
    [InlineData("xks-tls", false, "other", false)]
    [InlineData("xks-tls", true, "xks-tls", false)]
    [InlineData(null, false, "xks-tls", false)]
    public void UsesOwnTlsSecret_SecretNameAndIssuerRef_OnlyTheUsersOwnCertificateWakesTheVault(string? secretName, bool issuerRef, string changed, bool wakes)
    {
        var vault = new V1Alpha1Vault
        {
            Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1VaultSpec { Tls = new V1Alpha1VaultTls { SecretName = secretName, IssuerRef = issuerRef ? new V1Alpha1IssuerReference { Name = "acme" } : null } },
        };

        Assert.Equal(wakes, VaultController.UsesOwnTlsSecret(vault, changed));
    }
}
