using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Backup.Tests;

public sealed class VaultBackupDocumentTests
{
    private static readonly DateTimeOffset CreatedAt = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static VaultSnapshot Snapshot()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a", Uid = "vault-uid", ResourceVersion = "7", Finalizers = ["xks.dev/master-key"] }, Spec = new V1Alpha1VaultSpec { Hostname = "xks.example.com" } };
        vault.Status = new V1Alpha1VaultStatus { ObservedGeneration = 3 };
        var keySet = new V1Alpha1KeySet
        {
            Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a", Uid = "keyset-uid" },
            Spec = new V1Alpha1KeySetSpec { VaultRef = new V1Alpha1LocalObjectReference { Name = "xks" }, CspAccountRef = new V1Alpha1CspAccountReference { Name = "production" } },
            Status = new V1Alpha1KeySetStatus { CustomKeyStoreId = "cks-1234567890abcdef0" },
        };
        var cloudKey = new V1Alpha1CloudKey
        {
            Metadata = new V1ObjectMeta { Name = "payments-db", NamespaceProperty = "team-a", Uid = "cloudkey-uid" },
            Spec = new V1Alpha1CloudKeySpec { KeySetRef = new V1Alpha1LocalObjectReference { Name = "payments" } },
            Status = new V1Alpha1CloudKeyStatus { KeyId = "1234abcd", Arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd" },
        };
        var unused = new V1Alpha1CloudKey
        {
            Metadata = new V1ObjectMeta { Name = "new", NamespaceProperty = "team-a", Uid = "new-uid" },
            Spec = new V1Alpha1CloudKeySpec { KeySetRef = new V1Alpha1LocalObjectReference { Name = "payments" } },
        };
        var account = new V1Alpha1CspAccount { Metadata = new V1ObjectMeta { Name = "production", NamespaceProperty = "team-a" }, Spec = new V1Alpha1CspAccountSpec { Region = "eu-west-1" } };
        var masterKey = MasterKeySecretBuilder.Build(vault, new byte[32]);
        masterKey.Metadata.Uid = "secret-uid";
        var credential = new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = "payments-xks-credential", NamespaceProperty = "team-a", Uid = "cred-uid",
                OwnerReferences = [new V1OwnerReference { ApiVersion = "xks.dev/v1alpha1", Kind = "KeySet", Name = "payments", Uid = "keyset-uid", Controller = true }],
            },
            Data = new Dictionary<string, byte[]> { ["accessKeyId"] = Encoding.ASCII.GetBytes("AKIDAKIDAKIDAKIDAKID") },
        };
        return new VaultSnapshot(vault, [account], [keySet], [unused, cloudKey], [masterKey, credential]);
    }

    private static VaultBackupContents RoundTrip(VaultSnapshot snapshot)
    {
        Assert.True(VaultBackupDocument.TryParse(VaultBackupDocument.Serialize(snapshot, CreatedAt), out var contents, out var problem), problem);
        return contents;
    }

    private static JsonObject Find(VaultBackupContents contents, string kind, string name) =>
        Assert.Single(contents.Objects, o => (string?)o["kind"] == kind && (string?)o["metadata"]!["name"] == name);

    [Fact]
    public void Serialize_ThenParse_KeepsWhereAndWhenAndOrdersSecretsFirst()
    {
        var contents = RoundTrip(Snapshot());

        Assert.Equal(("team-a", "xks", CreatedAt), (contents.Namespace, contents.Vault, contents.CreatedAt));
        Assert.Equal(["Secret", "Secret", "CspAccount", "Vault", "KeySet", "CloudKey", "CloudKey"], contents.Objects.Select(o => (string)o["kind"]!));
    }

    [Fact]
    public void Serialize_DropsIdentityStatusAndOwners_KeepsTheCustodyFinalizer()
    {
        var contents = RoundTrip(Snapshot());

        foreach (var item in contents.Objects)
        {
            var metadata = (JsonObject)item["metadata"]!;
            Assert.Null(metadata["uid"]);
            Assert.Null(metadata["resourceVersion"]);
            Assert.Null(metadata["namespace"]);
            Assert.Null(metadata["ownerReferences"]);
            Assert.Null(item["status"]);
        }

        Assert.Null(Find(contents, "Vault", "xks")["metadata"]!["finalizers"]);
        Assert.Equal(KeyCustody.Finalizer, (string?)Find(contents, "Secret", "xks-master-key")["metadata"]!["finalizers"]![0]);
        Assert.Equal(Convert.ToBase64String(new byte[32]), (string?)Find(contents, "Secret", "xks-master-key")["data"]![ProxyLayout.MasterKeyKey]);
    }

    [Fact]
    public void Serialize_OnlyTheCustodyFinalizerTravels()
    {
        var snapshot = Snapshot();
        snapshot.Secrets[0].Metadata.Finalizers = ["other.example/cleanup", KeyCustody.Finalizer];
        snapshot.Secrets[1].Metadata.Finalizers = ["other.example/cleanup"];

        var contents = RoundTrip(snapshot);

        Assert.Equal([KeyCustody.Finalizer], Find(contents, "Secret", "xks-master-key")["metadata"]!["finalizers"]!.AsArray().Select(f => (string?)f));
        Assert.Null(Find(contents, "Secret", "payments-xks-credential")["metadata"]!["finalizers"]);
    }

    [Fact]
    public void Serialize_RecordsWhatAwsHoldsAsSpecAdopt()
    {
        var contents = RoundTrip(Snapshot());

        Assert.Equal("cks-1234567890abcdef0", (string?)Find(contents, "KeySet", "payments")["spec"]!["adopt"]!["customKeyStoreId"]);
        Assert.Equal("1234abcd", (string?)Find(contents, "CloudKey", "payments-db")["spec"]!["adopt"]!["keyId"]);
        Assert.Null(Find(contents, "CloudKey", "new")["spec"]!["adopt"]);
    }

    [Fact]
    public void Serialize_ACredentialTheKeySetOwned_IsMarkedForTheRestoredKeySetToClaim()
    {
        var contents = RoundTrip(Snapshot());

        Assert.Equal("KeySet/payments", (string?)Find(contents, "Secret", "payments-xks-credential")["metadata"]!["annotations"]![KeySetCredentialSecret.RestoredForAnnotation]);
        Assert.Null(Find(contents, "Secret", "xks-master-key")["metadata"]!["annotations"]![KeySetCredentialSecret.RestoredForAnnotation]);
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "not JSON", "{", "not JSON" },
        { "another format", """{"format":"other"}""", "format is not xks.dev/vault-backup/v1" },
        { "no namespace", """{"format":"xks.dev/vault-backup/v1","vault":"v","createdAt":"2026-12-04T12:00:00Z","objects":[]}""", "lacks its namespace" },
        { "no objects", """{"format":"xks.dev/vault-backup/v1","namespace":"n","vault":"v","createdAt":"2026-12-04T12:00:00Z"}""", "has no objects" },
        { "an unknown kind", """{"format":"xks.dev/vault-backup/v1","namespace":"n","vault":"v","createdAt":"2026-12-04T12:00:00Z","objects":[{"kind":"Pod","metadata":{"name":"p"}}]}""", "objects[0] is not" },
        { "a nameless object", """{"format":"xks.dev/vault-backup/v1","namespace":"n","vault":"v","createdAt":"2026-12-04T12:00:00Z","objects":[{"kind":"Secret","metadata":{}}]}""", "objects[0] is not" },
        { "twice the same object", """{"format":"xks.dev/vault-backup/v1","namespace":"n","vault":"v","createdAt":"2026-12-04T12:00:00Z","objects":[{"kind":"Vault","metadata":{"name":"v"}},{"kind":"Vault","metadata":{"name":"v"}}]}""", "Vault v is listed twice" },
        { "without its Vault", """{"format":"xks.dev/vault-backup/v1","namespace":"n","vault":"v","createdAt":"2026-12-04T12:00:00Z","objects":[{"kind":"Vault","metadata":{"name":"w"}}]}""", "does not hold Vault v" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryParse_Malformed_SaysWhy(string because, string json, string expected)
    {
        Assert.False(VaultBackupDocument.TryParse(Encoding.UTF8.GetBytes(json), out _, out var problem), because);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }
}
