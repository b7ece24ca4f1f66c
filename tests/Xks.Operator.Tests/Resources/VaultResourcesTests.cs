using System.Text;
using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;

namespace Xks.Operator.Resources.Tests;

public class VaultResourcesTests
{
    private static readonly byte[] FixedMasterKey = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    public static TheoryData<string, string> Samples => new()
    {
        { "ingress-issuer", ProxyPodDisruptionBudgetBuilder.PolicyV1 },
        { "ingress-backend-tls", ProxyPodDisruptionBudgetBuilder.PolicyV1 },
        { "loadbalancer-secret", ProxyPodDisruptionBudgetBuilder.PolicyV1Beta1 },
        { "pkcs11-hsm", ProxyPodDisruptionBudgetBuilder.PolicyV1 },
        { "hsm-sealed", ProxyPodDisruptionBudgetBuilder.PolicyV1 },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Build_SampleVault_MatchesGoldenManifests(string sample, string pdbApiVersion)
    {
        var vault = ResourceTestSupport.LoadVault(sample);
        Assert.Empty(VaultSpecValidator.Validate(vault));

        var children = VaultResources.Build(vault, new VaultResourceOptions(PodDisruptionBudgetApiVersion: pdbApiVersion));
        // The master key is the software backend's (the PKCS#11 backend and a HsmSealed Vault have none).
        var backend = ProxyBackendModel.ForVault(vault);
        object[] masterKey = backend.IsPkcs11 || backend.IsHsmSealed ? [] : [MasterKeySecretBuilder.Build(vault, FixedMasterKey)];

        ResourceTestSupport.AssertGolden($"{sample}.children.yaml", ResourceTestSupport.ToYaml([.. masterKey, .. children.All()]));
        ResourceTestSupport.AssertGolden($"{sample}.proxy.yaml", Encoding.UTF8.GetString(children.ConfigSecret.Data[ProxyLayout.ConfigKey]));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Build_Twice_GivesIdenticalJson(string sample, string pdbApiVersion)
    {
        var options = new VaultResourceOptions(PodDisruptionBudgetApiVersion: pdbApiVersion);
        var first = VaultResources.Build(ResourceTestSupport.LoadVault(sample), options).All().Select(o => KubernetesJson.Serialize(o));
        var second = VaultResources.Build(ResourceTestSupport.LoadVault(sample), options).All().Select(o => KubernetesJson.Serialize(o));

        Assert.Equal(first, second);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Build_EveryChild_HasTheVaultAsControllerOwner(string sample, string pdbApiVersion)
    {
        var vault = ResourceTestSupport.LoadVault(sample);
        var children = VaultResources.Build(vault, new VaultResourceOptions(PodDisruptionBudgetApiVersion: pdbApiVersion));

        foreach (var child in children.All())
        {
            var owner = Assert.Single(child.Metadata.OwnerReferences);
            Assert.Equal("xks.dev/v1alpha1", owner.ApiVersion);
            Assert.Equal("Vault", owner.Kind);
            Assert.Equal(vault.Metadata.Name, owner.Name);
            Assert.Equal(vault.Metadata.Uid, owner.Uid);
            Assert.True(owner.Controller);
            Assert.True(owner.BlockOwnerDeletion);
            Assert.Equal(vault.Metadata.NamespaceProperty, child.Metadata.NamespaceProperty);
            Assert.Equal(VaultLabels.For(vault), child.Metadata.Labels);
            Assert.False(string.IsNullOrEmpty(child.ApiVersion), $"{child.Kind} has no apiVersion");
            Assert.False(string.IsNullOrEmpty(child.Kind), $"{child.Metadata.Name} has no kind");
        }
    }

    [Fact]
    public void Build_IngressVault_HasIngressAndCertificateButNoLoadBalancer()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");

        var children = VaultResources.Build(vault, new VaultResourceOptions());

        Assert.NotNull(children.Ingress);
        Assert.NotNull(children.Certificate);
        Assert.Null(children.LoadBalancerService);
        Assert.Equal(
            [
                new VaultChildReference("cert-manager.io/v1", "Certificate", "payments-backend"),
                new VaultChildReference("v1", "Service", "payments-proxy-lb"),
            ],
            children.Unwanted);
    }

    [Fact]
    public void Build_LoadBalancerVaultWithSecret_HasNoIngressNorCertificate()
    {
        var vault = ResourceTestSupport.LoadVault("loadbalancer-secret");

        var children = VaultResources.Build(vault, new VaultResourceOptions());

        Assert.Null(children.Ingress);
        Assert.Null(children.Certificate);
        Assert.NotNull(children.LoadBalancerService);
        Assert.Equal(
            [
                new VaultChildReference("cert-manager.io/v1", "Certificate", "ledger"),
                new VaultChildReference("cert-manager.io/v1", "Certificate", "ledger-backend"),
                new VaultChildReference("networking.k8s.io/v1", "Ingress", "ledger"),
            ],
            children.Unwanted);
    }

    [Fact]
    public void Build_IngressVaultWithBackendTls_ServesVerifiedHttpsBehindTheIngress()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-backend-tls");

        var children = VaultResources.Build(vault, new VaultResourceOptions());

        var backend = children.BackendCertificate!;
        Assert.Equal("orders-backend", backend.Metadata.Name);
        Assert.Equal("orders-backend-tls", backend.Spec.SecretName);
        Assert.Equal(["orders-proxy.team-b.svc", "orders-proxy.team-b.svc.cluster.local"], backend.Spec.DnsNames);
        Assert.Equal(("platform-ca", "ClusterIssuer"), (backend.Spec.IssuerRef.Name, backend.Spec.IssuerRef.Kind));
        Assert.Equal(["orders", "orders-backend"], children.All().OfType<V1Certificate>().Select(c => c.Metadata.Name));

        // The Ingress verifies the proxy; the user's "off" loses to the operator's "on".
        var annotations = children.Ingress!.Metadata.Annotations;
        Assert.Equal("HTTPS", annotations["nginx.ingress.kubernetes.io/backend-protocol"]);
        Assert.Equal("on", annotations["nginx.ingress.kubernetes.io/proxy-ssl-verify"]);
        Assert.Equal("orders-proxy.team-b.svc", annotations["nginx.ingress.kubernetes.io/proxy-ssl-name"]);
        Assert.Equal("team-b/orders-backend-tls", annotations["nginx.ingress.kubernetes.io/proxy-ssl-secret"]);
        Assert.Equal("2", annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]);
        Assert.Equal("https", children.Ingress.Spec.Rules[0].Http.Paths[0].Backend.Service.Port.Name);

        // The ClusterIP Service and the pods serve HTTPS on 8443 with the backend certificate; no LoadBalancer.
        Assert.Equal(("https", 443), (children.Service.Spec.Ports[0].Name, children.Service.Spec.Ports[0].Port));
        var pod = children.Deployment.Spec.Template.Spec;
        Assert.Equal(8443, pod.Containers[0].Ports[0].ContainerPort);
        Assert.Equal("HTTPS", pod.Containers[0].ReadinessProbe.HttpGet.Scheme);
        Assert.Equal("orders-backend-tls", pod.Volumes.Single(v => v.Name == "tls").Secret.SecretName);
        Assert.Null(children.LoadBalancerService);
        Assert.True(ProxyConfigModel.ForVault(vault).ServeTls);
    }

    [Fact]
    public void Build_NetworkPolicyDisabled_ListsItAsUnwantedSoTheReconcilerDeletesIt()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        vault.Spec.NetworkPolicy = new V1Alpha1VaultNetworkPolicy { Enabled = false };

        var children = VaultResources.Build(vault, new VaultResourceOptions());

        Assert.Null(children.NetworkPolicy);
        Assert.DoesNotContain(children.All(), c => c is V1NetworkPolicy);
        Assert.Contains(new VaultChildReference("networking.k8s.io/v1", "NetworkPolicy", "payments-proxy"), children.Unwanted);
    }

    [Fact]
    public void Build_OperatorNetworkPolicyDefaults_ReachTheNetworkPolicy()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        var off = new VaultResourceOptions(NetworkPolicy: VaultNetworkPolicyDefaults.Default with { Enabled = false });

        Assert.Null(VaultResources.Build(vault, off).NetworkPolicy);
        Assert.NotNull(VaultResources.Build(vault, new VaultResourceOptions()).NetworkPolicy);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Build_NonSecretChildren_CarryNoKeyMaterialOrCredentials(string sample, string pdbApiVersion)
    {
        var vault = ResourceTestSupport.LoadVault(sample);
        var secret = new ProxyCredentialModel("AAAAAAAAAAAAAAAAAAAAAAAAAA", "SecretSecretSecretSecretSecretSecretSecret0123");
        var config = ProxyConfigModel.ForVault(vault, [new ProxyKeyStoreModel("store", "/p", [secret], [])]);
        var masterKey = Convert.ToBase64String(FixedMasterKey);

        var children = VaultResources.Build(vault, new VaultResourceOptions(PodDisruptionBudgetApiVersion: pdbApiVersion), config);

        foreach (var child in children.All().Where(c => c is not V1Secret))
        {
            var json = KubernetesJson.Serialize(child);
            Assert.DoesNotContain(secret.SecretAccessKey, json, StringComparison.Ordinal);
            Assert.DoesNotContain(masterKey, json, StringComparison.Ordinal);
            Assert.DoesNotContain("\"data\":", json, StringComparison.Ordinal);
        }

        var configText = Encoding.UTF8.GetString(children.ConfigSecret.Data[ProxyLayout.ConfigKey]);
        Assert.Contains(secret.SecretAccessKey, configText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret.SecretAccessKey, KubernetesJson.Serialize(children.ConfigSecret.Metadata), StringComparison.Ordinal);
    }

    [Fact]
    public void All_ListsChildrenInApplyOrder()
    {
        var children = VaultResources.Build(ResourceTestSupport.LoadVault("ingress-issuer"), new VaultResourceOptions());

        var kinds = children.All().Select(c => c.Kind).ToList();

        Assert.Equal(
            ["ServiceAccount", "Role", "RoleBinding", "Secret", "Certificate", "Service", "Deployment", "PodDisruptionBudget", "Ingress", "NetworkPolicy"],
            kinds);
        Assert.IsType<V1Certificate>(children.All().ElementAt(4));
    }
}
