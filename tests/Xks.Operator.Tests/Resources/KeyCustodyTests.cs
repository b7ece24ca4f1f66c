using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public sealed class KeyCustodyTests
{
    private static V1Alpha1Vault Vault() => new() { Metadata = new V1ObjectMeta { Name = "v", NamespaceProperty = "team-a", Uid = "u-1" } };

    [Fact]
    public void Protect_AddsTheFinalizerAndTheKeepAnnotations_KeepingWhatIsThere()
    {
        var metadata = new V1ObjectMeta { Finalizers = ["other/finalizer"], Annotations = new Dictionary<string, string> { ["team"] = "a" } };

        KeyCustody.Protect(metadata);

        Assert.Equal(["other/finalizer", KeyCustody.Finalizer], metadata.Finalizers);
        Assert.Equal("a", metadata.Annotations["team"]);
        Assert.Equal("keep", metadata.Annotations["helm.sh/resource-policy"]);
        Assert.Equal("Prune=false", metadata.Annotations["argocd.argoproj.io/sync-options"]);
        Assert.True(KeyCustody.IsProtected(metadata));
    }

    [Fact]
    public void Protect_Twice_AddsTheFinalizerOnce()
    {
        var metadata = KeyCustody.Protect(KeyCustody.Protect(new V1ObjectMeta()));

        Assert.Single(metadata.Finalizers, KeyCustody.Finalizer);
    }

    public static TheoryData<string, V1ObjectMeta?> Unprotected => new()
    {
        { "no metadata", null },
        { "nothing", new V1ObjectMeta() },
        { "annotations without the finalizer", new V1ObjectMeta { Annotations = KeyCustody.Annotations.ToDictionary() } },
        { "the finalizer without annotations", new V1ObjectMeta { Finalizers = [KeyCustody.Finalizer] } },
        { "Argo CD told to prune", new V1ObjectMeta { Finalizers = [KeyCustody.Finalizer], Annotations = new Dictionary<string, string>(KeyCustody.Annotations) { ["argocd.argoproj.io/sync-options"] = "Prune=true" } } },
    };

    [Theory]
    [MemberData(nameof(Unprotected))]
    public void IsProtected_AnythingMissing_IsFalse(string because, V1ObjectMeta? metadata)
    {
        Assert.False(KeyCustody.IsProtected(metadata), because);
    }

    [Fact]
    public void MasterKeySecret_IsProtected()
    {
        var secret = MasterKeySecretBuilder.Build(Vault(), new byte[ProxyLayout.MasterKeyLength]);

        Assert.True(KeyCustody.IsProtected(secret.Metadata));
        Assert.Null(secret.Metadata.OwnerReferences);
    }

    [Fact]
    public void KeyMaterialSecret_IsProtected()
    {
        var key = new V1Alpha1CloudKey { Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a", Uid = "u-2" } };

        var secret = KeyMaterialSecret.Build(key, "v", "payments-key", [ProxyKeyVersionModel.InHsm(1, DateTimeOffset.UnixEpoch)], KeyMaterialSecret.Pkcs11Backend);

        Assert.True(KeyCustody.IsProtected(secret.Metadata));
        Assert.Null(secret.Metadata.OwnerReferences);
    }
}
