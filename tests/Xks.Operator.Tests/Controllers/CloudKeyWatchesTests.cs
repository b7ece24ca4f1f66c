using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Runtime;

namespace Xks.Operator.Controllers.Tests;

/// <summary>Which CloudKeys a change of one of the operator's Secrets wakes: the watch that replaced the 1 s poll of the config Secret.</summary>
public class CloudKeyWatchesTests
{
    private static readonly V1Alpha1KeySet[] AllKeySets =
    [
        KeySet("team-a", "payments", vault: "vault-1"),
        KeySet("team-a", "ledger", vault: "vault-1"),
        KeySet("team-a", "hr", vault: "vault-2"),
    ];

    private static readonly V1Alpha1CloudKey[] AllCloudKeys =
    [
        CloudKey("team-a", "db", "payments", ready: false),
        CloudKey("team-a", "cards", "payments", ready: true),
        CloudKey("team-a", "journal", "ledger", ready: null),
        CloudKey("team-a", "salaries", "hr", ready: false),
        CloudKey("team-a", "orphan", "no-such-keyset", ready: false),
    ];

    public static TheoryData<string, V1Secret, string[]> Cases => new()
    {
        { "the config Secret of vault-1 wakes its keys not Ready, in every KeySet it serves", Secret("team-a", "vault-1"), ["db", "journal"] },
        { "a Ready key is left alone and another Vault's key is not woken", Secret("team-a", "vault-2"), ["salaries"] },
        { "a Vault without KeySets wakes nothing", Secret("team-a", "vault-3"), [] },
        { "the same Vault name in another namespace wakes nothing here", Secret("team-b", "vault-1"), [] },
        { "a Secret without the vault label wakes nothing", Secret("team-a", vault: null), [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NotReadyKeysOfVault_SecretChange_WakesExactlyTheWaitingKeysOfThatVault(string scenario, V1Secret secret, string[] expected)
    {
        var woken = CloudKeyController.NotReadyKeysOfVault(
            secret,
            ns => AllKeySets.Where(k => k.Metadata.NamespaceProperty == ns),
            ns => AllCloudKeys.Where(k => k.Metadata.NamespaceProperty == ns));

        Assert.True(
            expected.Select(name => new ResourceKey(secret.Metadata.NamespaceProperty, name)).SequenceEqual(woken),
            $"{scenario}: woke [{string.Join(", ", woken)}], expected [{string.Join(", ", expected)}]");
    }

    [Theory]
    [InlineData("payments", new[] { "db", "cards" })]
    [InlineData("ledger", new[] { "journal" })]
    [InlineData("empty", new string[0])]
    public void KeysOfKeySet_AnyChangeOfTheKeySet_WakesEveryCloudKeyOfItSoNewDefaultsApplyAtOnce(string keySet, string[] expected)
    {
        var changed = KeySet("team-a", keySet, vault: "vault-1");
        changed.Spec.Defaults = new V1Alpha1KeySetDefaults { Rotation = new V1Alpha1Rotation { Every = "24h" } };

        var woken = CloudKeyController.KeysOfKeySet(changed, ns => AllCloudKeys.Where(k => k.Metadata.NamespaceProperty == ns));

        Assert.Equal(expected.Select(name => new ResourceKey("team-a", name)), woken);
    }

    public static TheoryData<string, bool, string, string?, string[]> DeletedMaterial => new()
    {
        { "a material Secret being deleted wakes its CloudKey", true, VaultLabels.KeyMaterialComponent, "cards", ["cards"] },
        { "a material Secret not being deleted wakes nothing here", false, VaultLabels.KeyMaterialComponent, "cards", [] },
        { "another component being deleted wakes nothing here", true, "proxy-config", "cards", [] },
        { "material without its CloudKey label wakes nothing", true, VaultLabels.KeyMaterialComponent, null, [] },
    };

    [Theory]
    [MemberData(nameof(DeletedMaterial))]
    public void KeyOfDeletedMaterial_WakesTheCloudKeyWhoseMaterialSomeoneDeleted(string scenario, bool deleting, string component, string? cloudKey, string[] expected)
    {
        var labels = new Dictionary<string, string> { [VaultLabels.VaultLabel] = "vault-1", [VaultLabels.XksComponentLabel] = component };
        if (cloudKey is not null)
        {
            labels[VaultLabels.CloudKeyLabel] = cloudKey;
        }

        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "cards-key-material", NamespaceProperty = "team-a", Labels = labels, DeletionTimestamp = deleting ? DateTime.UtcNow : null } };

        var woken = CloudKeyController.KeyOfDeletedMaterial(secret).ToList();

        Assert.True(expected.Select(name => new ResourceKey("team-a", name)).SequenceEqual(woken), scenario);
    }

    private static V1Secret Secret(string ns, string? vault) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = vault is null ? "unrelated" : $"{vault}-proxy-config",
            NamespaceProperty = ns,
            Labels = vault is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [VaultLabels.VaultLabel] = vault },
        },
    };

    private static V1Alpha1KeySet KeySet(string ns, string name, string vault) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1Alpha1KeySetSpec { VaultRef = new V1Alpha1LocalObjectReference { Name = vault } },
    };

    private static V1Alpha1CloudKey CloudKey(string ns, string name, string keySet, bool? ready)
    {
        var key = new V1Alpha1CloudKey
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1Alpha1CloudKeySpec { KeySetRef = new V1Alpha1LocalObjectReference { Name = keySet } },
        };
        if (ready is { } value)
        {
            key.Status = new V1Alpha1CloudKeyStatus
            {
                Conditions = [new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = value ? ConditionStatus.True : ConditionStatus.False, Reason = "Test" }],
            };
        }

        return key;
    }
}
