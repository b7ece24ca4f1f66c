using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The Vault reconciler as users meet it: the operator process against the real control plane (etcd, kube-apiserver,
/// kube-controller-manager with its garbage collector and Deployment/ReplicaSet controllers), Vaults applied with
/// kubectl, one namespace and one operator per test.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class VaultControllerClusterTests() : OperatorClusterTest("vault")
{
    [Fact]
    public async Task Vault_Applied_CreatesEveryChildWithAControllerOwnerReference()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("edge"));

        var vault = await WaitForVaultAsync("edge", v => v.Status?.ObservedGeneration == 1);
        var uid = vault.Metadata.Uid;
        var owned = new List<(string Kind, V1ObjectMeta Meta)>
        {
            ("ServiceAccount", (await Client.CoreV1.ReadNamespacedServiceAccountAsync("edge-proxy", Ns)).Metadata),
            ("Role", (await Client.RbacAuthorizationV1.ReadNamespacedRoleAsync("edge-proxy", Ns)).Metadata),
            ("RoleBinding", (await Client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync("edge-proxy", Ns)).Metadata),
            ("Secret", (await Client.CoreV1.ReadNamespacedSecretAsync("edge-proxy-config", Ns)).Metadata),
            ("Service", (await Client.CoreV1.ReadNamespacedServiceAsync("edge-proxy", Ns)).Metadata),
            ("Deployment", (await Client.AppsV1.ReadNamespacedDeploymentAsync("edge-proxy", Ns)).Metadata),
            ("Ingress", (await Client.NetworkingV1.ReadNamespacedIngressAsync("edge", Ns)).Metadata),
            ("NetworkPolicy", (await Client.NetworkingV1.ReadNamespacedNetworkPolicyAsync("edge-proxy", Ns)).Metadata),
            ("PodDisruptionBudget", await ReadGenericMetadataAsync("policy", "v1beta1", "poddisruptionbudgets", "edge-proxy")),
        };
        foreach (var (kind, meta) in owned)
        {
            var owner = Assert.Single(meta.OwnerReferences ?? [], o => o.Controller == true);
            Assert.True(owner.Uid == uid && owner.Kind == "Vault" && owner.ApiVersion == "xks.dev/v1alpha1", $"{kind} {meta.Name} is not controlled by the Vault");
            Assert.True(owner.BlockOwnerDeletion, $"{kind} {meta.Name} does not block owner deletion");
        }

        // The master key is created once and deliberately not owned (deleting the Vault must not destroy it).
        var masterKey = await Client.CoreV1.ReadNamespacedSecretAsync("edge-master-key", Ns);
        Assert.Empty(masterKey.Metadata.OwnerReferences ?? []);
        Assert.Equal(32, masterKey.Data["master.key"].Length);
        Assert.True(masterKey.Immutable);

        // The proxy's Role reads only its own Secrets.
        var role = await Client.RbacAuthorizationV1.ReadNamespacedRoleAsync("edge-proxy", Ns);
        var rule = Assert.Single(role.Rules);
        Assert.Equal(["secrets"], rule.Resources);
        Assert.Equal(["edge-master-key", "edge-proxy-config"], rule.ResourceNames.Order(StringComparer.Ordinal));

        // Status a user can read, and Events kubectl describe shows.
        Assert.Equal("https://edge.example.com", vault.Status!.Endpoint);
        Assert.Equal(ConditionStatus.False, Conditions.Get(vault.Status.Conditions, ConditionTypes.Ready)!.Status);
        // Without cert-manager the Vault says so; once another test installed the Certificate API, it waits for issuance.
        Assert.Contains(Conditions.Get(vault.Status.Conditions, ConditionTypes.CertificateReady)!.Reason, new[] { "CertManagerNotInstalled", "CertificatePending" });
        var describe = (await Cluster.KubectlAsync($"describe vault edge -n {Ns}")).EnsureSuccess("kubectl describe");
        Assert.Contains("Created Deployment edge-proxy", describe.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("MasterKeyCreated", describe.StandardOutput, StringComparison.Ordinal);
        var columns = (await Cluster.KubectlAsync($"get vaults -n {Ns}")).EnsureSuccess("kubectl get vaults");
        Assert.Matches(@"NAME\s+HOSTNAME\s+READY\s+REPLICAS\s+AGE", columns.StandardOutput);
    }

    [Fact]
    public async Task Samples_AppliedWithKubectl_TheVaultGetsEveryChildOwnedByIt()
    {
        await using var op = await StartOperatorAsync();
        var samples = Path.Combine(LocalCluster.RepositoryRoot, "config", "samples");
        (await Cluster.KubectlAsync($"apply -n {Ns} -f {samples}")).EnsureSuccess("kubectl apply config/samples");

        var vault = await WaitForVaultAsync("xks", v => v.Status?.ObservedGeneration == 1);
        var selector = "xks.dev/vault=xks";
        var deployment = Assert.Single((await Client.AppsV1.ListNamespacedDeploymentAsync(Ns, labelSelector: selector)).Items);
        var ingress = Assert.Single((await Client.NetworkingV1.ListNamespacedIngressAsync(Ns, labelSelector: selector)).Items);
        var service = Assert.Single((await Client.CoreV1.ListNamespacedServiceAsync(Ns, labelSelector: selector)).Items);
        foreach (var meta in new[] { deployment.Metadata, ingress.Metadata, service.Metadata })
        {
            Assert.Contains(meta.OwnerReferences, o => o.Controller == true && o.Uid == vault.Metadata.Uid);
        }

        Assert.Equal("xks.example.com", Assert.Single(ingress.Spec.Rules).Host);
        Assert.Equal(2, deployment.Spec.Replicas);
        var columns = (await Cluster.KubectlAsync($"get vault,cspaccount,keyset,cloudkey -n {Ns}")).EnsureSuccess("kubectl get");
        Assert.Contains("vault.xks.dev/xks", columns.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("cloudkey.xks.dev/payments-db", columns.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vault_PodsReadyAndCertificateSecretPresent_BecomesReadyForKubectlWait()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(LoadBalancerVault("lb"));

        var pending = await WaitForVaultAsync("lb", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.CertificateReady) is not null);
        Assert.Equal("SecretNotFound", Conditions.Get(pending.Status!.Conditions, ConditionTypes.CertificateReady)!.Reason);

        await CreateTlsSecretAsync("lb-tls");
        await Kubelet.MakeDeploymentAvailableAsync(Ns, "lb-proxy", 2, Timeout);

        var wait = await Cluster.KubectlAsync($"wait --for=condition=Ready vault/lb -n {Ns} --timeout=60s");
        Assert.True(wait.ExitCode == 0, wait.Output);
        var vault = await GetVaultAsync("lb");
        Assert.Equal(2, vault.Status!.ReadyReplicas);
        Assert.Equal(ConditionStatus.True, Conditions.Get(vault.Status.Conditions, ConditionTypes.ProxyAvailable)!.Status);
        Assert.Equal(ConditionStatus.True, Conditions.Get(vault.Status.Conditions, ConditionTypes.CertificateReady)!.Status);

        // The proxy terminates TLS itself behind the LoadBalancer Service; no Ingress is made.
        var lb = await Client.CoreV1.ReadNamespacedServiceAsync("lb-proxy-lb", Ns);
        Assert.Equal("LoadBalancer", lb.Spec.Type);
        await AssertNotFoundAsync(() => Client.NetworkingV1.ReadNamespacedIngressAsync("lb", Ns));
    }

    [Fact]
    public async Task Vault_WithIssuerRef_CreatesACertificateAndIsReadyOnceItIsIssued()
    {
        await InstallCertificateApiAsync();
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("issued"));

        var certificate = await WaitForAsync(
            () => Client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", Ns, "certificates", "issued"), "Certificate created");
        var spec = System.Text.Json.JsonDocument.Parse(KubernetesJson.Serialize(certificate)).RootElement.GetProperty("spec");
        Assert.Equal("issued-tls", spec.GetProperty("secretName").GetString());
        Assert.Equal("issued.example.com", Assert.Single(spec.GetProperty("dnsNames").EnumerateArray()).GetString());
        Assert.Equal("ClusterIssuer", spec.GetProperty("issuerRef").GetProperty("kind").GetString());
        var pending = await WaitForVaultAsync("issued", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.CertificateReady) is { Reason: "CertificatePending" });
        Assert.Equal(ConditionStatus.False, Conditions.Get(pending.Status!.Conditions, ConditionTypes.Ready)!.Status);

        // cert-manager's part, acted here: the Certificate becomes Ready; the kubelet's part: the pods run.
        var issued = new { status = new { conditions = new[] { new { type = "Ready", status = "True", reason = "Ready", message = "Certificate is up to date and has not expired", lastTransitionTime = DateTime.UtcNow } } } };
        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(issued, V1Patch.PatchType.MergePatch), "cert-manager.io", "v1", Ns, "certificates", "issued");
        await Kubelet.MakeDeploymentAvailableAsync(Ns, "issued-proxy", 2, Timeout);

        var wait = await Cluster.KubectlAsync($"wait --for=condition=Ready vault/issued -n {Ns} --timeout=60s");
        Assert.True(wait.ExitCode == 0, wait.Output);
        var vault = await GetVaultAsync("issued");
        Assert.Equal("CertificateIssued", Conditions.Get(vault.Status!.Conditions, ConditionTypes.CertificateReady)!.Reason);
        var ready = Conditions.Get(vault.Status.Conditions, ConditionTypes.Ready)!;
        Assert.Equal(1, ready.ObservedGeneration);
        var describe = (await Cluster.KubectlAsync($"describe vault issued -n {Ns}")).EnsureSuccess("kubectl describe");
        Assert.Contains("Created Certificate issued", describe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vault_WithBackendIssuerRef_ServesVerifiedHttpsBehindTheIngressAndWaitsForBothCertificates()
    {
        await InstallCertificateApiAsync();
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("sealed").Replace(
            "issuerRef: {name: letsencrypt, kind: ClusterIssuer}",
            "issuerRef: {name: letsencrypt, kind: ClusterIssuer}\n    backendIssuerRef: {name: platform-ca, kind: ClusterIssuer}",
            StringComparison.Ordinal));

        var backend = await WaitForAsync(
            () => Client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", Ns, "certificates", "sealed-backend"), "backend Certificate created");
        var spec = System.Text.Json.JsonDocument.Parse(KubernetesJson.Serialize(backend)).RootElement.GetProperty("spec");
        Assert.Equal("sealed-backend-tls", spec.GetProperty("secretName").GetString());
        Assert.Equal([$"sealed-proxy.{Ns}.svc", $"sealed-proxy.{Ns}.svc.cluster.local"], spec.GetProperty("dnsNames").EnumerateArray().Select(e => e.GetString()));
        var ingress = await WaitForAsync(() => Client.NetworkingV1.ReadNamespacedIngressAsync("sealed", Ns), "Ingress created");
        Assert.Equal("HTTPS", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/backend-protocol"]);
        Assert.Equal($"{Ns}/sealed-backend-tls", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/proxy-ssl-secret"]);
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("sealed-proxy", Ns);
        Assert.Equal(8443, deployment.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort);

        // The public certificate alone is not enough: Ready waits for the backend one too.
        var issued = new { status = new { conditions = new[] { new { type = "Ready", status = "True", reason = "Ready", message = "Certificate is up to date and has not expired", lastTransitionTime = DateTime.UtcNow } } } };
        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(issued, V1Patch.PatchType.MergePatch), "cert-manager.io", "v1", Ns, "certificates", "sealed");
        await Kubelet.MakeDeploymentAvailableAsync(Ns, "sealed-proxy", 2, Timeout);
        var pending = await WaitForVaultAsync("sealed", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.CertificateReady)?.Message?.Contains("backend Certificate sealed-backend", StringComparison.Ordinal) == true);
        Assert.Equal(ConditionStatus.False, Conditions.Get(pending.Status!.Conditions, ConditionTypes.Ready)!.Status);

        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(issued, V1Patch.PatchType.MergePatch), "cert-manager.io", "v1", Ns, "certificates", "sealed-backend");
        var wait = await Cluster.KubectlAsync($"wait --for=condition=Ready vault/sealed -n {Ns} --timeout=60s");
        Assert.True(wait.ExitCode == 0, wait.Output);
    }

    [Fact]
    public async Task Vault_ChildNameTakenByAnUnownedObject_LeavesItAloneAndReportsReconcileFailedThenRecovers()
    {
        // Someone's own Deployment already has the name the Vault needs.
        var theirs = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "taken-proxy", Labels = new Dictionary<string, string> { ["app"] = "theirs" } },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "theirs" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "theirs" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "registry.test/theirs:1" }] },
                },
            },
        };
        await Client.AppsV1.CreateNamespacedDeploymentAsync(theirs, Ns);
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("taken"));

        var failed = await WaitForVaultAsync("taken", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.Ready) is { Reason: "ReconcileFailed" });
        var ready = Conditions.Get(failed.Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Equal(ConditionStatus.False, ready.Status);
        Assert.Contains("Deployment taken-proxy already exists and is not controlled by this Vault", ready.Message, StringComparison.Ordinal);
        var events = await Client.CoreV1.ListNamespacedEventAsync(Ns, fieldSelector: "reason=ReconcileFailed");
        Assert.Contains(events.Items, e => e.Type == "Warning" && e.InvolvedObject.Name == "taken");
        var untouched = await Client.AppsV1.ReadNamespacedDeploymentAsync("taken-proxy", Ns);
        Assert.Equal("registry.test/theirs:1", Assert.Single(untouched.Spec.Template.Spec.Containers).Image);
        Assert.Empty(untouched.Metadata.OwnerReferences ?? []);

        // Their Deployment goes away: the Vault's is created and the failure clears.
        await Client.AppsV1.DeleteNamespacedDeploymentAsync("taken-proxy", Ns, propagationPolicy: "Foreground");
        await Eventually.HoldsAsync(
            async () => await TryAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("taken-proxy", Ns)) is { } d && (d.Metadata.OwnerReferences ?? []).Any(o => o.Uid == failed.Metadata.Uid),
            TimeSpan.FromSeconds(90), "the Vault's Deployment created once the name is free");
        await WaitForVaultAsync("taken", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.Ready) is { Reason: not "ReconcileFailed" });
    }

    [Fact]
    public async Task Vault_SpecChanged_UpdatesTheDeploymentAndSwapsIngressForLoadBalancer()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("moving"));
        await WaitForAsync(() => Client.NetworkingV1.ReadNamespacedIngressAsync("moving", Ns), "Ingress created");
        var podTemplate = KubernetesJson.Serialize((await Client.AppsV1.ReadNamespacedDeploymentAsync("moving-proxy", Ns)).Spec.Template);

        // More replicas: the Deployment follows, the pod template does not change (no rollout for a scale).
        await ApplyAsync(IngressVault("moving").Replace("replicas: 2", "replicas: 3", StringComparison.Ordinal));
        await Eventually.HoldsAsync(async () => (await Client.AppsV1.ReadNamespacedDeploymentAsync("moving-proxy", Ns)).Spec.Replicas == 3, Timeout, "Deployment scaled to 3");
        Assert.Equal(podTemplate, KubernetesJson.Serialize((await Client.AppsV1.ReadNamespacedDeploymentAsync("moving-proxy", Ns)).Spec.Template));

        // The proxy terminates TLS itself now: the Ingress goes, a LoadBalancer Service comes, the pods listen on 8443.
        await CreateTlsSecretAsync("moving-tls");
        await ApplyAsync(LoadBalancerVault("moving"));
        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.NetworkingV1.ReadNamespacedIngressAsync("moving", Ns)) is null, Timeout, "Ingress removed");
        var lb = await WaitForAsync(() => Client.CoreV1.ReadNamespacedServiceAsync("moving-proxy-lb", Ns), "LoadBalancer Service created");
        Assert.Equal("LoadBalancer", lb.Spec.Type);
        await Eventually.HoldsAsync(
            async () => (await Client.AppsV1.ReadNamespacedDeploymentAsync("moving-proxy", Ns)).Spec.Template.Spec.Containers[0].Ports.Any(p => p.ContainerPort == 8443),
            Timeout, "proxy container serves HTTPS on 8443");
        var describe = (await Cluster.KubectlAsync($"describe vault moving -n {Ns}")).EnsureSuccess("kubectl describe");
        Assert.Contains("Deleted Ingress moving", describe.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Updated Deployment moving-proxy", describe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vault_NetworkPolicy_FollowsTheExposureAndIsDeletedWhenDisabled()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("fenced"));

        // Exposure Ingress: the API port admits the ingress controller's namespace only, metrics the monitoring namespace.
        var policy = await WaitForAsync(() => Client.NetworkingV1.ReadNamespacedNetworkPolicyAsync("fenced-proxy", Ns), "NetworkPolicy created");
        var vault = await WaitForVaultAsync("fenced", v => v.Status?.ObservedGeneration == 1);
        Assert.Contains(policy.Metadata.OwnerReferences ?? [], o => o.Controller == true && o.Uid == vault.Metadata.Uid);
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        Assert.Equal("fenced", policy.Spec.PodSelector.MatchLabels[VaultLabels.VaultLabel]);
        Assert.Equal(["xks", "metrics"], policy.Spec.Ingress.Select(r => Assert.Single(r.Ports).Port.Value));
        Assert.Equal("ingress-nginx", Assert.Single(policy.Spec.Ingress[0].FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);

        // Exposure LoadBalancer: AWS KMS calls from outside the cluster, so the API port admits any address.
        await CreateTlsSecretAsync("fenced-tls");
        await ApplyAsync(LoadBalancerVault("fenced"));
        await Eventually.HoldsAsync(
            async () => (await Client.NetworkingV1.ReadNamespacedNetworkPolicyAsync("fenced-proxy", Ns)).Spec.Ingress[0].FromProperty.Any(p => p.IpBlock?.Cidr == "0.0.0.0/0"),
            Timeout, "NetworkPolicy admits any address to the API port");

        // Disabled in the spec: the operator deletes the one it made.
        await ApplyAsync(LoadBalancerVault("fenced") + "\n  networkPolicy: {enabled: false}\n");
        await Eventually.HoldsAsync(
            async () => await TryAsync(() => Client.NetworkingV1.ReadNamespacedNetworkPolicyAsync("fenced-proxy", Ns)) is null,
            Timeout, "NetworkPolicy deleted");
        var describe = (await Cluster.KubectlAsync($"describe vault fenced -n {Ns}")).EnsureSuccess("kubectl describe");
        Assert.Contains("Deleted NetworkPolicy fenced-proxy", describe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vault_ChildDeletedOrEditedByHand_IsRestored()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("heal"));
        await WaitForVaultAsync("heal", v => v.Status?.ObservedGeneration == 1);
        var originalUid = (await Client.AppsV1.ReadNamespacedDeploymentAsync("heal-proxy", Ns)).Metadata.Uid;

        await Client.AppsV1.DeleteNamespacedDeploymentAsync("heal-proxy", Ns);
        await Eventually.HoldsAsync(
            async () => await TryAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("heal-proxy", Ns)) is { } d && d.Metadata.Uid != originalUid,
            Timeout, "deleted Deployment re-created");

        await Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(new { spec = new { replicas = 7 } }, V1Patch.PatchType.MergePatch), "heal-proxy", Ns);
        await Eventually.HoldsAsync(
            async () => (await Client.AppsV1.ReadNamespacedDeploymentAsync("heal-proxy", Ns)).Spec.Replicas == 2,
            Timeout, "edited replicas put back to the Vault's 2");

        await Client.CoreV1.DeleteNamespacedSecretAsync("heal-proxy-config", Ns);
        await Eventually.HoldsAsync(
            async () => await TryAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("heal-proxy-config", Ns)) is not null,
            Timeout, "deleted config Secret re-created");
    }

    [Fact]
    public async Task Vault_Deleted_ChildrenAreGarbageCollectedAndTheUnusedMasterKeyRemoved()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("gone"));
        var vault = await WaitForVaultAsync("gone", v => v.Status?.ObservedGeneration == 1);
        Assert.Contains(VaultController.Finalizer, vault.Metadata.Finalizers);

        (await Cluster.KubectlAsync($"delete vault gone -n {Ns} --wait=true --timeout=60s")).EnsureSuccess("kubectl delete vault");

        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("gone-proxy", Ns)) is null, Timeout, "Deployment garbage-collected");
        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("gone-proxy-config", Ns)) is null, Timeout, "config Secret garbage-collected");
        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.NetworkingV1.ReadNamespacedIngressAsync("gone", Ns)) is null, Timeout, "Ingress garbage-collected");
        await AssertNotFoundAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("gone-master-key", Ns));
    }

    [Fact]
    public async Task Vault_DeletedWhileRetainedKeyMaterialRemains_KeepsTheMasterKey()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("material"));
        await WaitForVaultAsync("material", v => v.Status?.ObservedGeneration == 1);
        var before = (await Client.CoreV1.ReadNamespacedSecretAsync("material-master-key", Ns)).Data["master.key"];
        // What a CloudKey deleted with deletionPolicy Retain leaves: its material, wrapped by the master key, no CloudKey.
        var retained = new V1Alpha1CloudKey { Metadata = new V1ObjectMeta { Name = "gone", NamespaceProperty = Ns, Uid = Guid.NewGuid().ToString() } };
        var id = CloudKeyNames.XksKeyId(retained);
        await Client.CoreV1.CreateNamespacedSecretAsync(KeyMaterialSecret.Build(retained, "material", id, [KeyMaterial.Wrap(before, id, 1, DateTimeOffset.UtcNow)]), Ns);

        (await Cluster.KubectlAsync($"delete vault material -n {Ns} --wait=true --timeout=60s")).EnsureSuccess("kubectl delete vault");

        Assert.Equal(before, (await Client.CoreV1.ReadNamespacedSecretAsync("material-master-key", Ns)).Data["master.key"]);
        var events = await Client.CoreV1.ListNamespacedEventAsync(Ns, fieldSelector: "reason=MasterKeyKept");
        Assert.Contains(events.Items, e => e.Message.Contains("gone", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Vault_DeletedWhileACloudKeyUsesIt_KeepsTheMasterKey()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("kept"));
        await WaitForVaultAsync("kept", v => v.Status?.ObservedGeneration == 1);
        var before = (await Client.CoreV1.ReadNamespacedSecretAsync("kept-master-key", Ns)).Data["master.key"];
        await ApplyAsync("""
            apiVersion: xks.dev/v1alpha1
            kind: KeySet
            metadata: {name: ks}
            spec: {vaultRef: {name: kept}, cspAccountRef: {name: aws}}
            ---
            apiVersion: xks.dev/v1alpha1
            kind: CloudKey
            metadata: {name: payments}
            spec: {keySetRef: {name: ks}}
            """);

        (await Cluster.KubectlAsync($"delete vault kept -n {Ns} --wait=true --timeout=60s")).EnsureSuccess("kubectl delete vault");

        var after = await Client.CoreV1.ReadNamespacedSecretAsync("kept-master-key", Ns);
        Assert.Equal(before, after.Data["master.key"]);
        var events = await Client.CoreV1.ListNamespacedEventAsync(Ns, fieldSelector: "reason=MasterKeyKept");
        Assert.Contains(events.Items, e => e.Message.Contains("payments", StringComparison.Ordinal));

        // A Vault re-created under the same name picks the same key up again.
        await ApplyAsync(IngressVault("kept"));
        await WaitForVaultAsync("kept", v => v.Status?.ObservedGeneration == 1);
        Assert.Equal(before, (await Client.CoreV1.ReadNamespacedSecretAsync("kept-master-key", Ns)).Data["master.key"]);
    }

    [Fact]
    public async Task Vault_SingleReplicaWithoutOverride_ReportsInvalidSpecAndCreatesNothing()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("solo").Replace("replicas: 2", "replicas: 1", StringComparison.Ordinal));

        var vault = await WaitForVaultAsync("solo", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.Ready) is not null);
        var ready = Conditions.Get(vault.Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Equal(ConditionStatus.False, ready.Status);
        Assert.Equal("InvalidSpec", ready.Reason);
        Assert.Contains("allowSingleReplica", ready.Message, StringComparison.Ordinal);
        await AssertNotFoundAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("solo-proxy", Ns));

        // Fixing the spec converges.
        await ApplyAsync(IngressVault("solo").Replace("replicas: 2", "replicas: 1\n  allowSingleReplica: true", StringComparison.Ordinal));
        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("solo-proxy", Ns)) is { Spec.Replicas: 1 }, Timeout, "Deployment with one replica");
    }

    [Fact]
    public async Task Vault_HostileImageOrSnippet_NotAllowedAndCreatesNothing()
    {
        // The operator runs as the tests start it: --proxy-image registry.test/xks-proxy:test, no other allow-list flag.
        await using var op = await StartOperatorAsync();
        await ApplyAsync(IngressVault("hostile")
            .Replace("ingress: {className: nginx}", "ingress:\n      className: nginx\n      annotations: {nginx.ingress.kubernetes.io/server-snippet: 'location / { return 200; }'}", StringComparison.Ordinal)
            .Replace("replicas: 2", "replicas: 2\n  proxy: {image: attacker.example/miner:latest}", StringComparison.Ordinal));

        var vault = await WaitForVaultAsync("hostile", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.Ready) is { Reason: "NotAllowed" });
        var ready = Conditions.Get(vault.Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Equal(ConditionStatus.False, ready.Status);
        Assert.Contains("spec.proxy.image attacker.example/miner:latest is not an image this operator runs", ready.Message, StringComparison.Ordinal);
        Assert.Contains("nginx.ingress.kubernetes.io/server-snippet would hand the controller raw configuration", ready.Message, StringComparison.Ordinal);
        await AssertNotFoundAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("hostile-proxy", Ns));
        await AssertNotFoundAsync(() => Client.NetworkingV1.ReadNamespacedIngressAsync("hostile", Ns));
        await AssertNotFoundAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("hostile-master-key", Ns));

        // Another tag of the operator's own proxy image is allowed.
        await ApplyAsync(IngressVault("hostile").Replace("replicas: 2", "replicas: 2\n  proxy: {image: registry.test/xks-proxy:other}", StringComparison.Ordinal));
        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("hostile-proxy", Ns)) is { } d && d.Spec.Template.Spec.Containers[0].Image == "registry.test/xks-proxy:other", Timeout, "the Deployment with the allowed image");
    }

    /// <summary>
    /// The cert-manager Certificate API without cert-manager: a schemaless CRD of the same group, version and kind, so
    /// the operator can create Certificates and the test can act as cert-manager. Cluster-scoped and left installed.
    /// </summary>
    private async Task InstallCertificateApiAsync()
    {
        const string crd = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: certificates.cert-manager.io}
            spec:
              group: cert-manager.io
              names: {kind: Certificate, listKind: CertificateList, plural: certificates, singular: certificate}
              scope: Namespaced
              versions:
              - name: v1
                served: true
                storage: true
                subresources: {status: {}}
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
            """;
        (await Cluster.KubectlAsync("apply -f -", crd)).EnsureSuccess("kubectl apply Certificate CRD");
        await Cluster.WaitEstablishedAsync("crd/certificates.cert-manager.io");
    }

    /// <summary>
    /// A kubernetes.io/tls Secret &lt;vault&gt;-tls with a certificate for the Vault's hostname from a throw-away CA, in
    /// ca.crt too (the operator checks the certificate; the LoadBalancer Vaults trust that CA with privateCa: true).
    /// </summary>
    private async Task<V1Secret> CreateTlsSecretAsync(string name)
    {
        using var ca = TestCertificateAuthority.Create();
        return await TlsSecret.CreateOrReplaceAsync(Client, Ns, name, ca, name[..^"-tls".Length] + ".example.com");
    }

    private string IngressVault(string name) => $"""
        apiVersion: xks.dev/v1alpha1
        kind: Vault
        metadata: {"{"}name: {name}{"}"}
        spec:
          hostname: {name}.example.com
          replicas: 2
          tls:
            issuerRef: {"{"}name: letsencrypt, kind: ClusterIssuer{"}"}
          exposure:
            type: Ingress
            ingress: {"{"}className: nginx{"}"}
        """;

    private static string LoadBalancerVault(string name) => $"""
        apiVersion: xks.dev/v1alpha1
        kind: Vault
        metadata: {"{"}name: {name}{"}"}
        spec:
          hostname: {name}.example.com
          replicas: 2
          tls: {"{"}secretName: {name}-tls, privateCa: true{"}"}
          exposure: {"{"}type: LoadBalancer{"}"}
        """;

    private async Task<V1ObjectMeta> ReadGenericMetadataAsync(string group, string version, string plural, string name)
    {
        var stored = await Client.CustomObjects.GetNamespacedCustomObjectAsync(group, version, Ns, plural, name);
        return KubernetesJson.Deserialize<V1Secret>(KubernetesJson.Serialize(stored)).Metadata;
    }
}
