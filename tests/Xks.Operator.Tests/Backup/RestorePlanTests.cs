using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Backup.Tests;

public sealed class RestorePlanTests
{
    private static VaultBackupContents Contents()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" }, Spec = new V1Alpha1VaultSpec { Hostname = "xks.example.com" } };
        var keySet = new V1Alpha1KeySet
        {
            Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1KeySetSpec { VaultRef = new V1Alpha1LocalObjectReference { Name = "xks" } },
            Status = new V1Alpha1KeySetStatus { CustomKeyStoreId = "cks-1234567890abcdef0" },
        };
        var snapshot = new VaultSnapshot(vault, [], [keySet], [], [MasterKeySecretBuilder.Build(vault, Enumerable.Repeat((byte)7, 32).ToArray())]);
        Assert.True(VaultBackupDocument.TryParse(VaultBackupDocument.Serialize(snapshot, DateTimeOffset.UnixEpoch), out var contents, out _));
        return contents;
    }

    private static V1Secret Secret(byte fill) => new() { Data = new Dictionary<string, byte[]> { [ProxyLayout.MasterKeyKey] = Enumerable.Repeat(fill, 32).ToArray() } };

    [Fact]
    public void For_EmptyNamespace_CreatesEverything()
    {
        var steps = RestorePlan.For(Contents(), new Dictionary<string, V1Secret>(), new HashSet<string>());

        Assert.All(steps, s => Assert.Equal(RestoreAction.Create, s.Action));
        Assert.Contains("spec.adopt", Assert.Single(steps, s => s.Kind == "KeySet").Note, StringComparison.Ordinal);
    }

    [Fact]
    public void For_TheSameSecretExists_LeavesItUnchanged()
    {
        var steps = RestorePlan.For(Contents(), new Dictionary<string, V1Secret> { ["xks-master-key"] = Secret(7) }, new HashSet<string>());

        Assert.Equal(RestoreAction.Unchanged, Assert.Single(steps, s => s.Kind == "Secret").Action);
    }

    [Fact]
    public void For_ASecretWithOtherData_IsAConflict()
    {
        var steps = RestorePlan.For(Contents(), new Dictionary<string, V1Secret> { ["xks-master-key"] = Secret(8) }, new HashSet<string>());

        var conflict = Assert.Single(steps, s => s.Kind == "Secret");
        Assert.Equal(RestoreAction.Conflict, conflict.Action);
        Assert.Contains("never overwritten", conflict.Note, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Enumerable.Repeat((byte)8, 32).ToArray()), conflict.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void For_AnExistingResource_IsKeptAndTheNoteNamesItsAdoption()
    {
        var steps = RestorePlan.For(Contents(), new Dictionary<string, V1Secret>(), new HashSet<string> { "KeySet/payments", "Vault/xks" });

        var keySet = Assert.Single(steps, s => s.Kind == "KeySet");
        Assert.Equal(RestoreAction.Keep, keySet.Action);
        Assert.Contains("cks-1234567890abcdef0", keySet.Note, StringComparison.Ordinal);
        Assert.Equal(RestoreAction.Keep, Assert.Single(steps, s => s.Kind == "Vault").Action);
        Assert.Equal(RestoreAction.Create, Assert.Single(steps, s => s.Kind == "Secret").Action);
    }
}
