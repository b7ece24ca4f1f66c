using System.Security.Cryptography;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public sealed class ProxyKeyStoresBuilderTests
{
    private static readonly byte[] MasterKey = RandomNumberGenerator.GetBytes(32);

    private static V1Alpha1KeySet KeySet(string name = "payments", bool blocked = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "team-a", Uid = Guid.NewGuid().ToString() },
        Spec = new V1Alpha1KeySetSpec { VaultRef = new() { Name = "xks" }, CspAccountRef = new() { Name = "prod" }, Blocked = blocked },
    };

    private static V1Alpha1CloudKey CloudKey(string name, bool enabled = true) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "team-a", Uid = Guid.NewGuid().ToString() },
        Spec = new V1Alpha1CloudKeySpec { KeySetRef = new() { Name = "payments" }, Enabled = enabled },
    };

    private static V1Alpha1CspAccount Account() => new()
    {
        Metadata = new V1ObjectMeta { Name = "prod", NamespaceProperty = "team-a" },
        Spec = new V1Alpha1CspAccountSpec { Region = "eu-west-1" },
    };

    private static V1Secret Material(V1Alpha1CloudKey key, V1Alpha1KeySet keySet, params (string Annotation, string Value)[] annotations)
    {
        var id = CloudKeyNames.XksKeyId(key);
        var secret = KeyMaterialSecret.Build(key, "xks", id, [KeyMaterial.Wrap(MasterKey, id, 1, DateTimeOffset.UnixEpoch)]);
        secret.Metadata.Labels[KeySetCredentialSecret.KeySetLabel] = keySet.Metadata.Name;
        secret.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (annotation, value) in annotations)
        {
            secret.Metadata.Annotations[annotation] = value;
        }

        return secret;
    }

    [Fact]
    public void Build_KeySetWithCredentialAndKeys_RendersOneKeyStoreWithEveryKey()
    {
        var keySet = KeySet();
        var credentials = new KeySetCredentialSecret(XksCredential.Generate(), Pending: XksCredential.Generate());
        var enabled = CloudKey("db");
        var disabled = CloudKey("logs", enabled: false);

        var result = ProxyKeyStoresBuilder.Build(
            [keySet], [enabled, disabled],
            [credentials.Build(keySet, "/team-a/payments/kms/xks/v1"), Material(enabled, keySet), Material(disabled, keySet)],
            [Account()]);

        Assert.Empty(result.Problems);
        Assert.Equal(["eu-west-1"], result.Regions);
        var store = Assert.Single(result.KeyStores);
        Assert.Equal("/team-a/payments", store.UriPathPrefix);
        Assert.Equal(2, store.Credentials.Count);
        Assert.Equal(
            [(CloudKeyNames.XksKeyId(enabled), true), (CloudKeyNames.XksKeyId(disabled), false)],
            store.Keys.Select(k => (k.Id, k.Enabled)).OrderBy(k => k.Id != CloudKeyNames.XksKeyId(enabled)).ToList());
        Assert.All(store.Keys, k => Assert.Single(k.Versions));
    }

    [Fact]
    public void Build_KeySetWithoutCredentialSecret_IsLeftOut()
    {
        var result = ProxyKeyStoresBuilder.Build([KeySet()], [], [], [Account()]);
        Assert.Empty(result.KeyStores);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void Build_MaterialOfDeletedCloudKey_ServedWhenRetainedRefusedWhenDeleted()
    {
        var keySet = KeySet();
        var retained = CloudKey("retained");
        var deleted = CloudKey("deleted");
        var result = ProxyKeyStoresBuilder.Build(
            [keySet], [],
            [
                new KeySetCredentialSecret(XksCredential.Generate()).Build(keySet, "/p/kms/xks/v1"),
                Material(retained, keySet, (KeyMaterialMarks.ReleasedAnnotation, "Retain")),
                Material(deleted, keySet, (KeyMaterialMarks.ReleasedAnnotation, "Delete")),
            ],
            [Account()]);

        var keys = Assert.Single(result.KeyStores).Keys.ToDictionary(k => k.Id, k => k.Enabled);
        Assert.True(keys[CloudKeyNames.XksKeyId(retained)]);
        Assert.False(keys[CloudKeyNames.XksKeyId(deleted)]);
    }

    [Fact]
    public void Build_ExpiredMaterialOrBlockedKeySet_IsRenderedAsRefused()
    {
        var keySet = KeySet(blocked: true);
        var key = CloudKey("db");
        var result = ProxyKeyStoresBuilder.Build(
            [keySet], [key],
            [new KeySetCredentialSecret(XksCredential.Generate()).Build(keySet, "/p/kms/xks/v1"), Material(key, keySet, (KeyMaterialMarks.ExpiredAnnotation, "true"))],
            [Account()]);

        var store = Assert.Single(result.KeyStores);
        Assert.True(store.Blocked);
        Assert.False(Assert.Single(store.Keys).Enabled);
    }

    [Fact]
    public void Build_EmptyPrefixAlone_ServesTheKeyStoreWithoutAPrefix()
    {
        var keySet = KeySet();
        keySet.Spec.UriPathPrefix = "";

        var result = ProxyKeyStoresBuilder.Build([keySet], [], [new KeySetCredentialSecret(XksCredential.Generate()).Build(keySet, "/kms/xks/v1")], [Account()]);

        Assert.Equal("", Assert.Single(result.KeyStores).UriPathPrefix);
    }

    [Fact]
    public void Build_EmptyPrefixNextToAnotherKeySet_LeavesOutTheLaterOne()
    {
        var first = KeySet("a-first");
        var later = KeySet("b-later");
        later.Spec.UriPathPrefix = "";

        var result = ProxyKeyStoresBuilder.Build(
            [later, first], [],
            [new KeySetCredentialSecret(XksCredential.Generate()).Build(first, "/team-a/a-first/kms/xks/v1"), new KeySetCredentialSecret(XksCredential.Generate()).Build(later, "/kms/xks/v1")],
            [Account()]);

        Assert.Equal("/team-a/a-first", Assert.Single(result.KeyStores).UriPathPrefix);
    }

    [Fact]
    public void Build_UnreadableCredentialSecret_IsAProblemNotAKeyStore()
    {
        var keySet = KeySet();
        var secret = new KeySetCredentialSecret(XksCredential.Generate()).Build(keySet, "/p/kms/xks/v1");
        secret.Data[KeySetCredentialSecret.SecretAccessKeyKey] = "x"u8.ToArray();

        var result = ProxyKeyStoresBuilder.Build([keySet], [], [secret], [Account()]);

        Assert.Empty(result.KeyStores);
        Assert.Contains("payments", Assert.Single(result.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Pkcs11Vault_ServesHsmVersionsAndLeavesOutSoftwareMaterial()
    {
        var keySet = KeySet();
        var credentials = new KeySetCredentialSecret(XksCredential.Generate());
        var inHsm = CloudKey("in-hsm");
        var hsmMaterial = KeyMaterialSecret.Build(inHsm, "xks", CloudKeyNames.XksKeyId(inHsm), [ProxyKeyVersionModel.InHsm(1, DateTimeOffset.UnixEpoch), ProxyKeyVersionModel.InHsm(2, DateTimeOffset.UnixEpoch)], KeyMaterialSecret.Pkcs11Backend);
        hsmMaterial.Metadata.Labels[KeySetCredentialSecret.KeySetLabel] = keySet.Metadata.Name;
        var wrapped = CloudKey("wrapped");

        var result = ProxyKeyStoresBuilder.Build(
            [keySet], [inHsm, wrapped],
            [credentials.Build(keySet, "/team-a/payments/kms/xks/v1"), hsmMaterial, Material(wrapped, keySet)],
            [Account()],
            KeyMaterialSecret.Pkcs11Backend);

        var key = Assert.Single(Assert.Single(result.KeyStores).Keys);
        Assert.Equal(CloudKeyNames.XksKeyId(inHsm), key.Id);
        Assert.Equal([(1, (string?)null), (2, null)], key.Versions.Select(v => (v.Version, v.WrappedMaterial)));
        var problem = Assert.Single(result.Problems);
        Assert.Equal("key material Secret wrapped-key-material: its versions are in the software backend, the Vault uses pkcs11", problem);
    }
}
