using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers.Tests;

/// <summary>Which changes of the operator's Secrets make a Vault render its config again, and when its config Secret needs no apply.</summary>
public sealed class VaultDecisionsTests
{
    private const string VaultUid = "0b1e4c1e-0000-4000-8000-000000000001";

    private static V1Secret Material(string versions = "{\"keyId\":\"k\"}", params (string Name, string Value)[] annotations) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "db-key-material",
            NamespaceProperty = "team-a",
            ResourceVersion = "1",
            Labels = new Dictionary<string, string> { [VaultLabels.VaultLabel] = "xks", [VaultLabels.ManagedByLabel] = VaultLabels.ManagedBy },
            Annotations = annotations.ToDictionary(a => a.Name, a => a.Value),
        },
        Data = new Dictionary<string, byte[]> { [KeyMaterialSecret.DataKey] = Encoding.UTF8.GetBytes(versions) },
    };

    private static V1Secret Config(string yaml, string? hash = null, string ownerUid = VaultUid) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "xks-proxy-config",
            NamespaceProperty = "team-a",
            Labels = new Dictionary<string, string> { [VaultLabels.VaultLabel] = "xks", [VaultLabels.ManagedByLabel] = VaultLabels.ManagedBy },
            Annotations = new Dictionary<string, string> { [VaultLabels.ConfigHashAnnotation] = hash ?? ProxyConfigRenderer.Hash(yaml) },
            OwnerReferences = [new V1OwnerReference { ApiVersion = "xks.dev/v1alpha1", Kind = "Vault", Name = "xks", Uid = ownerUid, Controller = true }],
        },
        Data = new Dictionary<string, byte[]> { [ProxyLayout.ConfigKey] = Encoding.UTF8.GetBytes(yaml) },
    };

    private static V1Secret With(V1Secret secret, Action<V1Secret> change)
    {
        var copy = k8s.KubernetesJson.Deserialize<V1Secret>(k8s.KubernetesJson.Serialize(secret));
        change(copy);
        return copy;
    }

    public static TheoryData<string, V1Secret, V1Secret, bool> Changes()
    {
        var material = Material();
        var config = Config("keyStores: []\n");
        return new()
        {
            { "the KMS key ID recorded on the material", material, With(material, s => s.Metadata.Annotations[KeyMaterialMarks.KmsKeyIdAnnotation] = "1234abcd"), false },
            { "a handled rotation request recorded", material, With(material, s => s.Metadata.Annotations[KeyMaterialMarks.HandledRotationRequestAnnotation] = "r1"), false },
            { "only the resourceVersion", material, With(material, s => s.Metadata.ResourceVersion = "2"), false },
            { "a new key version (data)", material, With(material, s => s.Data[KeyMaterialSecret.DataKey] = Encoding.UTF8.GetBytes("{\"keyId\":\"k\",\"v\":2}")), true },
            { "released with Delete: the proxy must refuse the key", material, With(material, s => s.Metadata.Annotations[KeyMaterialMarks.ReleasedAnnotation] = "Delete"), true },
            { "adopted again: the release is lifted", Material(annotations: (KeyMaterialMarks.ReleasedAnnotation, "Retain")), Material(), true },
            { "expired: the proxy must refuse the key", material, With(material, s => s.Metadata.Annotations[KeyMaterialMarks.ExpiredAnnotation] = "true"), true },
            { "moved to another KeySet (labels)", material, With(material, s => s.Metadata.Labels["xks.dev/keyset"] = "other"), true },
            { "the config Secret as the Vault wrote it comes back", config, Config("keyStores: [a]\n"), false },
            { "the config Secret edited by hand (data no longer matches its hash)", config, With(config, s => s.Data[ProxyLayout.ConfigKey] = Encoding.UTF8.GetBytes("keyStores: [evil]\n")), true },
            { "the config Secret with a second data key", config, With(config, s => s.Data["extra"] = [1]), true },
            { "the config Secret's owner replaced", config, Config("keyStores: []\n", ownerUid: "someone-else"), true },
            { "someone deleted the material (held by its finalizer)", material, With(material, s => s.Metadata.DeletionTimestamp = DateTime.UtcNow), true },
        };
    }

    [Theory]
    [MemberData(nameof(Changes))]
    public void SecretChangeMatters_OnlyWhatTheConfigReads(string because, V1Secret before, V1Secret after, bool matters) =>
        Assert.True(matters == VaultDecisions.SecretChangeMatters(before, after), because);

    public static TheoryData<string, V1Secret?, bool> Cached()
    {
        var desired = Config("keyStores: [a]\n");
        return new()
        {
            { "none cached yet", null, false },
            { "the same config, ours", Config("keyStores: [a]\n"), true },
            { "an older config", Config("keyStores: []\n"), false },
            { "the hash annotation forged over other data", Config("keyStores: [evil]\n", hash: ProxyConfigRenderer.Hash("keyStores: [a]\n")), false },
            { "another Vault's", Config("keyStores: [a]\n", ownerUid: "someone-else"), false },
            { "a label removed by hand", With(desired, s => s.Metadata.Labels.Remove(VaultLabels.ManagedByLabel)), false },
        };
    }

    [Theory]
    [MemberData(nameof(Cached))]
    public void ConfigSecretCurrent_OnlyTheVaultsOwnUnchangedConfig(string because, V1Secret? cached, bool current) =>
        Assert.True(current == VaultDecisions.ConfigSecretCurrent(cached, Config("keyStores: [a]\n"), VaultUid), because);

    private static readonly (string, string, string) PublicIssued = (ConditionStatus.True, "CertificateIssued", "Certificate xks-tls is issued");

    public static TheoryData<string, (string, string, string), V1CertificateCondition?, string, string, string> CertificateCases => new()
    {
        { "public pending: the public state, whatever the backend", (ConditionStatus.False, "CertificatePending", "waiting for xks-tls"), new V1CertificateCondition { Type = "Ready", Status = "True" }, ConditionStatus.False, "CertificatePending", "waiting for xks-tls" },
        { "both issued", PublicIssued, new V1CertificateCondition { Type = "Ready", Status = "True" }, ConditionStatus.True, "CertificateIssued", "Certificate xks-tls is issued; backend Certificate xks-backend is issued into Secret xks-backend-tls" },
        { "backend not yet Ready", PublicIssued, new V1CertificateCondition { Type = "Ready", Status = "False", Reason = "Issuing", Message = "CA issuer not ready" }, ConditionStatus.False, "CertificatePending", "waiting for cert-manager to issue the backend Certificate xks-backend (spec.tls.backendIssuerRef): Issuing - CA issuer not ready" },
        { "backend without a Ready condition", PublicIssued, null, ConditionStatus.False, "CertificatePending", "waiting for cert-manager to issue the backend Certificate xks-backend (spec.tls.backendIssuerRef): no Ready condition yet" },
    };

    [Theory]
    [MemberData(nameof(CertificateCases))]
    public void CertificatesState_BackendTls_ReadyOnlyWhenBothAreIssued(string because, (string, string, string) publicState, V1CertificateCondition? backendReady, string status, string reason, string message)
    {
        var state = VaultDecisions.CertificatesState(publicState, "xks-backend", "xks-backend-tls", backendReady);

        Assert.True((status, reason, message) == state, $"{because}: {state}");
    }

    [Fact]
    public void RootKeyProtection_SoftwareBackend_IsFlaggedUnprotectedNamingTheSecret()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };

        var (status, reason, message) = VaultDecisions.RootKeyProtection(vault, ProxyBackendModel.ForVault(vault));

        Assert.Equal((ConditionStatus.False, Reasons.PlaintextRootKey), (status, reason));
        Assert.Contains("HsmSealed", message, StringComparison.Ordinal);
        Assert.Contains("xks-master-key", message, StringComparison.Ordinal);
        Assert.Contains("namespace team-a", message, StringComparison.Ordinal);
        Assert.Contains("docs/key-custody.md", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RootKeyProtection_Pkcs11_IsProtected()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyBackend = new V1Alpha1KeyBackend
        {
            Type = V1Alpha1KeyBackendType.Pkcs11,
            Pkcs11 = new V1Alpha1Pkcs11Backend { Library = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "xks", PinSecretRef = new V1Alpha1SecretKeyReference { Name = "pin" } },
        };

        var (status, reason, _) = VaultDecisions.RootKeyProtection(vault, ProxyBackendModel.ForVault(vault));

        Assert.Equal((ConditionStatus.True, Reasons.KeysInHsm), (status, reason));
    }

    [Fact]
    public void RootKeyProtection_HsmSealed_IsProtectedNamingTheRootKey()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyProtection = new V1Alpha1KeyProtection
        {
            Mode = V1Alpha1KeyProtectionMode.HsmSealed,
            Hsm = new V1Alpha1SealingHsm { Library = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "root", PinSecretRef = new V1Alpha1SecretKeyReference { Name = "pin" } },
        };

        var (status, reason, message) = VaultDecisions.RootKeyProtection(vault, ProxyBackendModel.ForVault(vault));

        Assert.Equal((ConditionStatus.True, Reasons.RootKeyInHsm), (status, reason));
        Assert.Contains("xks-root/team-a/xks/r<n>", message, StringComparison.Ordinal);
        Assert.DoesNotContain("master-key", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RootKeyProtection_HsmSealedWithoutHsm_IsStillFlaggedUnprotected()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.HsmSealed };

        var (status, reason, _) = VaultDecisions.RootKeyProtection(vault, ProxyBackendModel.ForVault(vault));

        Assert.Equal((ConditionStatus.False, Reasons.PlaintextRootKey), (status, reason));
    }

    [Fact]
    public void RootKeyProtection_Shamir_IsProtectedNamingTheKeyring()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir };

        var (status, reason, message) = VaultDecisions.RootKeyProtection(vault, ProxyBackendModel.ForVault(vault));

        Assert.Equal((ConditionStatus.True, Reasons.RootKeySplitAmongCustodians), (status, reason));
        Assert.Contains("xks-keyring", message, StringComparison.Ordinal);
    }

    public static TheoryData<string, V1Alpha1KeyProtectionMode, int, int, string, string> Availability => new()
    {
        { "all replicas available", V1Alpha1KeyProtectionMode.Shamir, 2, 2, ConditionStatus.True, Reasons.MinimumReplicasAvailable },
        { "a Shamir Vault with none: sealed", V1Alpha1KeyProtectionMode.Shamir, 0, 2, ConditionStatus.False, Reasons.ProxySealed },
        { "a Shamir Vault with one of two: one replica to unseal or recover", V1Alpha1KeyProtectionMode.Shamir, 1, 2, ConditionStatus.False, Reasons.ReplicasUnavailable },
        { "a plaintext Vault with none", V1Alpha1KeyProtectionMode.Plaintext, 0, 2, ConditionStatus.False, Reasons.NoReplicasAvailable },
    };

    [Theory]
    [MemberData(nameof(Availability))]
    public void ProxyAvailability_Case_HasTheReason(string because, V1Alpha1KeyProtectionMode mode, int available, int desired, string status, string reason)
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyProtection = new V1Alpha1KeyProtection { Mode = mode };

        var (gotStatus, gotReason, message) = VaultDecisions.ProxyAvailability(vault, ProxyBackendModel.ForVault(vault), available, desired);

        Assert.True((status, reason) == (gotStatus, gotReason), $"{because}: {gotStatus} {gotReason}");
        Assert.StartsWith($"{available}/{desired} proxy replicas available", message, StringComparison.Ordinal);
        if (reason == Reasons.ProxySealed)
        {
            Assert.Contains("kubectl port-forward -n team-a pod/<pod> 9444", message, StringComparison.Ordinal);
            Assert.Contains("xks-proxy admin unseal --url http://127.0.0.1:9444", message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(V1Alpha1KeyProtectionMode.Plaintext, true, KeyMaterialSecret.SoftwareBackend)]
    [InlineData(V1Alpha1KeyProtectionMode.HsmSealed, false, KeyMaterialSecret.HsmSealedBackend)]
    [InlineData(V1Alpha1KeyProtectionMode.Shamir, false, KeyMaterialSecret.ShamirBackend)]
    public void ProxyBackendModel_KeyProtectionMode_DecidesTheMasterKeyAndTheMaterialsBackend(V1Alpha1KeyProtectionMode mode, bool masterKey, string material)
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyProtection = new V1Alpha1KeyProtection
        {
            Mode = mode,
            Hsm = mode == V1Alpha1KeyProtectionMode.HsmSealed ? new V1Alpha1SealingHsm { Library = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "root", PinSecretRef = new V1Alpha1SecretKeyReference { Name = "pin" } } : null,
        };

        var backend = ProxyBackendModel.ForVault(vault);

        Assert.Equal((masterKey, material), (backend.HasMasterKey, backend.Name));
        Assert.Equal(mode == V1Alpha1KeyProtectionMode.HsmSealed ? "xks-root/team-a/xks" : null, backend.Sealing?.RootLabelPrefix);
        Assert.Equal(mode == V1Alpha1KeyProtectionMode.Shamir ? "team-a_xks" : null, backend.Shamir?.VaultId);
    }

    [Fact]
    public void ProxyBackendModel_KeyProtectionOnThePkcs11Backend_IsIgnoredThePkcs11BackendWins()
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" } };
        vault.Spec.KeyBackend = new V1Alpha1KeyBackend
        {
            Type = V1Alpha1KeyBackendType.Pkcs11,
            Pkcs11 = new V1Alpha1Pkcs11Backend { Library = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "xks", PinSecretRef = new V1Alpha1SecretKeyReference { Name = "pin" } },
        };
        vault.Spec.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir };

        var backend = ProxyBackendModel.ForVault(vault);

        Assert.Equal((KeyMaterialSecret.Pkcs11Backend, false, false), (backend.Name, backend.IsShamir, backend.HasMasterKey));
    }

    [Theory]
    [InlineData(-10, 1)]
    [InlineData(0, 1)]
    [InlineData(59, 60)]
    [InlineData(43_199, 43_200)]
    [InlineData(5_000_000, 43_200)]
    public void CertificateRecheck_Due_IsASecondLateWithinBounds(int dueSeconds, int recheckSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(recheckSeconds), VaultDecisions.CertificateRecheck(TimeSpan.FromSeconds(dueSeconds)));

    [Theory]
    [InlineData("tls.crt")]
    [InlineData("tls.key")]
    public void UserCertificate_SecretWithoutCertificateOrKey_IsNotChecked(string missing)
    {
        var data = new Dictionary<string, byte[]> { ["tls.crt"] = "x"u8.ToArray(), ["tls.key"] = "y"u8.ToArray() };
        data.Remove(missing);

        Assert.Null(VaultDecisions.UserCertificate(TlsVault(privateCa: false), new V1Secret { Data = data }, DateTimeOffset.UtcNow));
    }

    [Theory]
    [InlineData(false, "CertificateUntrusted")]
    [InlineData(true, "CertificateValid")]
    public void UserCertificate_TestCaInCaCrt_IsTrustedOnlyWithPrivateCa(bool privateCa, string reason)
    {
        using var ca = Xks.Testing.TestCertificateAuthority.Create("Team CA", TimeSpan.FromDays(400));
        using var leaf = ca.IssueServer("xks.example.com", ["xks.example.com"], TimeSpan.FromDays(90));
        using var key = leaf.GetECDsaPrivateKey()!;
        var secret = new V1Secret
        {
            Data = new Dictionary<string, byte[]>
            {
                ["tls.crt"] = Encoding.ASCII.GetBytes(leaf.ExportCertificatePem()),
                ["tls.key"] = Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()),
                ["ca.crt"] = Encoding.ASCII.GetBytes(ca.CertificatePem),
            },
        };

        var finding = VaultDecisions.UserCertificate(TlsVault(privateCa), secret, DateTimeOffset.UtcNow, systemRoots: [])!;

        Assert.Equal(reason, finding.Reason);
        Assert.Equal(["xks.example.com"], finding.Certificate!.DnsNames);
    }

    private static V1Alpha1Vault TlsVault(bool privateCa) => new()
    {
        Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" },
        Spec = new V1Alpha1VaultSpec { Hostname = "xks.example.com", Tls = new V1Alpha1VaultTls { SecretName = "xks-tls", PrivateCa = privateCa } },
    };
}

