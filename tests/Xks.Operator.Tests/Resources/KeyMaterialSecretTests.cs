using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Xks.Contracts.KeyWrap;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public sealed class KeyMaterialSecretTests
{
    private static readonly byte[] MasterKey = RandomNumberGenerator.GetBytes(32);
    private static readonly DateTimeOffset Created = new(2026, 11, 28, 19, 0, 0, TimeSpan.Zero);

    private static V1Alpha1CloudKey CloudKey() => new()
    {
        Metadata = new V1ObjectMeta { Name = "payments-db", NamespaceProperty = "team-a", Uid = "2f1c0000-0000-0000-0000-000000000000" },
        Spec = new V1Alpha1CloudKeySpec { KeySetRef = new V1Alpha1LocalObjectReference { Name = "payments" } },
    };

    private static readonly ProxyKeyVersionModel V1 = KeyMaterial.Wrap(MasterKey, "payments-db-2f1c", 1, Created);
    private static readonly ProxyKeyVersionModel V2 = KeyMaterial.Wrap(MasterKey, "payments-db-2f1c", 2, Created.AddDays(30).AddMilliseconds(250));

    [Fact]
    public void Build_CloudKey_IsAnUnownedOpaqueSecretWithTheContractsNameLabelsAndJson()
    {
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [V2, V1]);

        Assert.Equal("payments-db-key-material", secret.Metadata.Name);
        Assert.Equal("payments-db-key-material", KeyMaterialSecret.Name(CloudKey()));
        Assert.Equal("team-a", secret.Metadata.NamespaceProperty);
        Assert.Equal("Opaque", secret.Type);
        Assert.Null(secret.Metadata.OwnerReferences);
        Assert.Null(secret.Immutable);
        Assert.Equal("xks", secret.Metadata.Labels["xks.dev/vault"]);
        Assert.Equal("payments-db", secret.Metadata.Labels["xks.dev/cloudkey"]);
        Assert.Equal("xks-operator", secret.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal("key-material", secret.Metadata.Labels["xks.dev/component"]);
        Assert.Equal(
            $$"""{"keyId":"payments-db-2f1c","versions":[{"version":1,"wrappedMaterial":"{{V1.WrappedMaterial}}","createdAt":"2026-11-28T19:00:00Z"},{"version":2,"wrappedMaterial":"{{V2.WrappedMaterial}}","createdAt":"2026-12-28T19:00:00.25Z"}]}""",
            Encoding.UTF8.GetString(Assert.Single(secret.Data).Value));
        Assert.Equal("versions.json", secret.Data.Keys.Single());
    }

    [Fact]
    public void TryRead_WhatBuildWrote_GivesBackTheKeyIdAndVersionsInOrder()
    {
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [V2, V1]);

        Assert.True(KeyMaterialSecret.TryRead(secret, out var keyId, out var versions, out var problem), problem);

        Assert.Null(problem);
        Assert.Equal("payments-db-2f1c", keyId);
        Assert.Equal([V1, V2], versions);
        Assert.All(versions, v => Assert.True(KeyMaterial.CanUnwrap(MasterKey, keyId, v)));
    }

    [Theory]
    [InlineData(null, "has no key 'versions.json'")]
    [InlineData("{\"keyId\": ", "'versions.json' is not valid JSON")]
    [InlineData("[]", "'versions.json' is not a JSON object")]
    [InlineData("{\"versions\":[]}", "'versions.json': keyId must be an externalKeyId (1-128 characters of A-Z a-z 0-9 . _ -)")]
    [InlineData("{\"keyId\":\"has space\",\"versions\":[]}", "'versions.json': keyId must be an externalKeyId (1-128 characters of A-Z a-z 0-9 . _ -)")]
    [InlineData("{\"keyId\":\"k\",\"versions\":[]}", "'versions.json': versions must list at least one version")]
    [InlineData("{\"keyId\":\"k\",\"versions\":[{\"version\":0,\"wrappedMaterial\":\"V1\",\"createdAt\":\"2026-11-28T19:00:00Z\"}]}", "'versions.json': versions[0]: version must be a whole number of 1 or more")]
    [InlineData("{\"keyId\":\"k\",\"versions\":[{\"version\":1,\"wrappedMaterial\":\"AAAA\",\"createdAt\":\"2026-11-28T19:00:00Z\"}]}", "'versions.json': versions[0]: wrappedMaterial must be Base64 of a wrapped key: 73 bytes (format 2) or 60 bytes (format 1)")]
    [InlineData("{\"keyId\":\"k\",\"versions\":[{\"version\":1,\"wrappedMaterial\":\"V1\",\"createdAt\":\"yesterday\"}]}", "'versions.json': versions[0]: createdAt must be an RFC 3339 time")]
    [InlineData("{\"keyId\":\"k\",\"versions\":[{\"version\":1,\"wrappedMaterial\":\"V1\",\"createdAt\":\"2026-11-28T19:00:00Z\"},{\"version\":1,\"wrappedMaterial\":\"V1\",\"createdAt\":\"2026-11-28T19:00:00Z\"}]}", "'versions.json': versions[1]: version 1 is listed twice")]
    public void TryRead_BadSecret_IsFalseWithTheProblem(string? json, string expected)
    {
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "payments-db-key-material" }, Data = new Dictionary<string, byte[]>() };
        if (json is not null)
        {
            secret.Data["versions.json"] = Encoding.UTF8.GetBytes(json.Replace("\"V1\"", $"\"{V1.WrappedMaterial}\"", StringComparison.Ordinal));
        }

        Assert.False(KeyMaterialSecret.TryRead(secret, out _, out var versions, out var problem));

        Assert.Equal(expected, problem);
        Assert.Empty(versions);
        Assert.DoesNotContain(V1.WrappedMaterial!, problem!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("format 2 (73 bytes), as the operator writes now", true)]
    [InlineData("format 1 (60 bytes), as older Secrets hold", true)]
    [InlineData("59 bytes", false)]
    [InlineData("61 bytes", false)]
    [InlineData("72 bytes", false)]
    [InlineData("74 bytes", false)]
    [InlineData("73 bytes without the format-2 marker", false)]
    public void TryRead_WrappedMaterial_AcceptsFormat1And2Only(string shape, bool accepted)
    {
        var format2 = Convert.FromBase64String(V1.WrappedMaterial!);
        var wrapped = Convert.ToBase64String(shape switch
        {
            "format 2 (73 bytes), as the operator writes now" => format2,
            "format 1 (60 bytes), as older Secrets hold" => format2[13..],
            "59 bytes" => format2[14..],
            "61 bytes" => format2[12..],
            "72 bytes" => format2[..72],
            "74 bytes" => [.. format2, 0],
            _ => [0x01, .. format2[1..]],
        });
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "k-key-material" },
            Data = new Dictionary<string, byte[]> { ["versions.json"] = Encoding.UTF8.GetBytes($$"""{"keyId":"k","versions":[{"version":1,"wrappedMaterial":"{{wrapped}}","createdAt":"2026-11-28T19:00:00Z"}]}""") },
        };

        Assert.Equal(accepted, KeyMaterialSecret.TryRead(secret, out _, out var versions, out var problem));

        if (accepted)
        {
            Assert.Equal(wrapped, Assert.Single(versions).WrappedMaterial);
        }
        else
        {
            Assert.Equal("'versions.json': versions[0]: wrappedMaterial must be Base64 of a wrapped key: 73 bytes (format 2) or 60 bytes (format 1)", problem);
        }
    }

    [Fact]
    public void TryRead_SecretWithoutData_IsFalse() =>
        Assert.False(KeyMaterialSecret.TryRead(new V1Secret { Metadata = new V1ObjectMeta { Name = "x" } }, out _, out _, out _));

    [Fact]
    public void Build_BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", []));
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [V1, V1]));
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.Build(CloudKey(), "xks", "has space", [V1]));
    }

    [Fact]
    public void Build_Pkcs11_ListsVersionNumbersWithoutMaterial()
    {
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [ProxyKeyVersionModel.InHsm(2, Created.AddDays(1)), ProxyKeyVersionModel.InHsm(1, Created)], KeyMaterialSecret.Pkcs11Backend);

        Assert.Equal(
            """{"keyId":"payments-db-2f1c","backend":"pkcs11","versions":[{"version":1,"createdAt":"2026-11-28T19:00:00Z"},{"version":2,"createdAt":"2026-11-29T19:00:00Z"}]}""",
            Encoding.UTF8.GetString(secret.Data["versions.json"]));
        Assert.Contains("HSM", secret.Metadata.Annotations["xks.dev/description"], StringComparison.Ordinal);
        Assert.True(KeyMaterialSecret.TryRead(secret, out var keyId, out var versions, out var backend, out var problem), problem);
        Assert.Equal(("payments-db-2f1c", KeyMaterialSecret.Pkcs11Backend), (keyId, backend));
        Assert.Equal([(1, (string?)null, Created), (2, null, Created.AddDays(1))], versions.Select(v => (v.Version, v.WrappedMaterial, v.CreatedAt)));
    }

    [Fact]
    public void Build_HsmSealed_RecordsTheBackendAndReadsBackTheSealedBlobs()
    {
        var blob = Convert.ToBase64String(SealedKey.Compose(1, new byte[SealedKey.WrappedSize]));
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [new ProxyKeyVersionModel(1, blob, Created)], KeyMaterialSecret.HsmSealedBackend);

        Assert.Contains("\"backend\":\"hsm-sealed\"", Encoding.UTF8.GetString(secret.Data["versions.json"]), StringComparison.Ordinal);
        Assert.Contains("sealed by the Vault's root key", secret.Metadata.Annotations["xks.dev/description"], StringComparison.Ordinal);
        Assert.True(KeyMaterialSecret.TryRead(secret, out _, out var versions, out var backend, out var problem), problem);
        Assert.Equal(KeyMaterialSecret.HsmSealedBackend, backend);
        Assert.Equal(blob, Assert.Single(versions).WrappedMaterial);
    }

    [Fact]
    public void TryRead_HsmSealedWithAMasterKeyWrap_IsAProblem()
    {
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "k", [V1], KeyMaterialSecret.HsmSealedBackend);

        Assert.False(KeyMaterialSecret.TryRead(secret, out _, out _, out _, out var problem));
        Assert.Equal($"'versions.json': versions[0]: wrappedMaterial must be Base64 of a key sealed by the Vault's root key: {SealedKey.Size} bytes (format 3)", problem);
    }

    [Fact]
    public void TryRead_SoftwareWithASealedBlob_IsAProblem()
    {
        var blob = Convert.ToBase64String(SealedKey.Compose(1, new byte[SealedKey.WrappedSize]));
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "k", [new ProxyKeyVersionModel(1, blob, Created)]);

        Assert.False(KeyMaterialSecret.TryRead(secret, out _, out _, out _, out var problem));
        Assert.StartsWith("'versions.json': versions[0]: wrappedMaterial must be Base64 of a wrapped key", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_SoftwareFormat_ReportsTheSoftwareBackend()
    {
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [V1]);

        Assert.True(KeyMaterialSecret.TryRead(secret, out _, out _, out var backend, out _));
        Assert.Equal(KeyMaterialSecret.SoftwareBackend, backend);
    }

    [Theory]
    [InlineData("""{"keyId":"k","backend":"pkcs11","versions":[{"version":1,"wrappedMaterial":"V1","createdAt":"2026-11-28T19:00:00Z"}]}""", "'versions.json': versions[0]: wrappedMaterial must not be set: the version lives in the HSM")]
    [InlineData("""{"keyId":"k","versions":[{"version":1,"createdAt":"2026-11-28T19:00:00Z"}]}""", "'versions.json': versions[0]: wrappedMaterial must be Base64 of a wrapped key: 73 bytes (format 2) or 60 bytes (format 1)")]
    [InlineData("""{"keyId":"k","backend":"tpm","versions":[{"version":1,"createdAt":"2026-11-28T19:00:00Z"}]}""", "'versions.json': backend must be software, hsm-sealed, shamir or pkcs11")]
    public void TryRead_MaterialAndBackendDisagree_IsAProblemThatNeverQuotesTheMaterial(string json, string expected)
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "k-key-material" },
            Data = new Dictionary<string, byte[]> { ["versions.json"] = Encoding.UTF8.GetBytes(json.Replace("\"V1\"", $"\"{V1.WrappedMaterial}\"", StringComparison.Ordinal)) },
        };

        Assert.False(KeyMaterialSecret.TryRead(secret, out _, out _, out var problem));
        Assert.Equal(expected, problem);
        Assert.DoesNotContain(V1.WrappedMaterial!, problem!, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_VersionsThatDoNotMatchTheBackend_Throw()
    {
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.Build(CloudKey(), "xks", "k", [V1], KeyMaterialSecret.Pkcs11Backend));
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.Build(CloudKey(), "xks", "k", [ProxyKeyVersionModel.InHsm(1, Created)]));
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.Build(CloudKey(), "xks", "k", [V1], "tpm"));
    }

    [Fact]
    public void WithVersions_ResealedBlobs_KeepsMetadataKeyIdAndBackend_AndReplacesTheMaterial()
    {
        var first = Convert.ToBase64String(SealedKey.Compose(1, new byte[SealedKey.WrappedSize]));
        var second = Convert.ToBase64String(SealedKey.Compose(2, Enumerable.Repeat((byte)7, SealedKey.WrappedSize).ToArray()));
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "payments-db-2f1c", [new ProxyKeyVersionModel(1, first, Created)], KeyMaterialSecret.HsmSealedBackend);
        secret.Metadata.ResourceVersion = "42";

        var updated = KeyMaterialSecret.WithVersions(secret, [new ProxyKeyVersionModel(1, second, Created)]);

        Assert.Same(secret.Metadata, updated.Metadata);
        Assert.True(KeyMaterialSecret.TryRead(updated, out var keyId, out var versions, out var backend, out var problem), problem);
        Assert.Equal(("payments-db-2f1c", KeyMaterialSecret.HsmSealedBackend), (keyId, backend));
        Assert.Equal([(1, second, Created)], versions.Select(v => (v.Version, v.WrappedMaterial!, v.CreatedAt)));
    }

    [Fact]
    public void WithVersions_OtherVersionNumbersOrNoMaterial_Throws()
    {
        var blob = Convert.ToBase64String(SealedKey.Compose(1, new byte[SealedKey.WrappedSize]));
        var secret = KeyMaterialSecret.Build(CloudKey(), "xks", "k", [new ProxyKeyVersionModel(1, blob, Created)], KeyMaterialSecret.HsmSealedBackend);

        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.WithVersions(secret, [new ProxyKeyVersionModel(2, blob, Created)]));
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.WithVersions(secret, [ProxyKeyVersionModel.InHsm(1, Created)]));
        Assert.Throws<ArgumentException>(() => KeyMaterialSecret.WithVersions(new V1Secret { Metadata = new V1ObjectMeta { Name = "x" } }, []));
    }
}
