using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Resources;

namespace Xks.Operator.Charts.Tests;

/// <summary><c>helm lint</c> and <c>helm template</c> of charts/xks-operator checked against expectations (no control plane).</summary>
[Collection(ChartCollection.Name)]
[Trait("Category", "Integration")]
public sealed class HelmTemplateTests
{
    [Theory]
    [InlineData("")]
    [InlineData("--strict")]
    [InlineData("--strict --set rbac.namespaced=true --set watchNamespaces={team-a}")]
    [InlineData("--strict --set monitoring.serviceMonitor.enabled=true --set crds.install=false --set replicaCount=1")]
    [InlineData("--strict --set monitoring.force=true --set monitoring.serviceMonitor.enabled=true --set monitoring.podMonitor.enabled=true --set monitoring.prometheusRule.enabled=true --set monitoring.grafanaDashboard.enabled=true")]
    public async Task Lint_Values_Passes(string arguments)
    {
        var result = await HelmChart.HelmAsync($"lint {HelmChart.Directory} {arguments}");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("0 chart(s) failed", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_DefaultValues_RendersExpectedKinds()
    {
        var chart = await HelmChart.RenderAsync();

        var kinds = chart.Objects.Where(o => o.Kind != "CustomResourceDefinition").Select(o => o.Kind).Order().ToList();
        Assert.Equal(
            ["ClusterRole", "ClusterRole", "ClusterRole", "ClusterRole", "ClusterRoleBinding", "Deployment", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount"],
            kinds);
        Assert.Equal(
            Directory.GetFiles(HelmChart.CrdSourceDirectory, "*.yaml").Length,
            chart.OfKind("CustomResourceDefinition").Count());
        Assert.All(chart.Objects.Where(o => o.Kind is not ("ClusterRole" or "ClusterRoleBinding" or "CustomResourceDefinition")),
            o => Assert.Equal(HelmChart.ReleaseNamespace, o.Namespace));
        Assert.All(chart.Objects, o => Assert.Contains("app.kubernetes.io/managed-by: Helm", o.Yaml, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Template_DefaultValues_DeploymentIsHardenedWithProbesAndLeaderElection()
    {
        var deployment = (await HelmChart.RenderAsync()).Single<V1Deployment>("Deployment");

        Assert.Equal("xks-xks-operator", deployment.Metadata.Name);
        Assert.Equal(2, deployment.Spec.Replicas);
        var pod = deployment.Spec.Template.Spec;
        Assert.Equal("xks-xks-operator", pod.ServiceAccountName);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(65532, pod.SecurityContext.RunAsUser);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);

        var container = Assert.Single(pod.Containers);
        Assert.Equal("ghcr.io/xks-operator/xks-operator:0.1.0", container.Image);
        Assert.Equal(
            ["run", "--leader-elect", "true", "--leader-election-namespace", HelmChart.ReleaseNamespace, "--http-address", "0.0.0.0",
             "--http-port", "8080", "--proxy-image", "ghcr.io/xks-operator/xks-proxy:0.1.0",
             "--cluster-resource-namespace", HelmChart.ReleaseNamespace,
             "--network-policy", "true",
             "--network-policy-api-from", """{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"ingress-nginx"}}}""",
             "--network-policy-load-balancer-api-from", """{"ipBlock":{"cidr":"0.0.0.0/0"}}""",
             "--network-policy-load-balancer-api-from", """{"ipBlock":{"cidr":"::/0"}}""",
             "--network-policy-metrics-from", """{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}"""],
            container.Args);
        var security = container.SecurityContext;
        Assert.True(security.RunAsNonRoot);
        Assert.True(security.ReadOnlyRootFilesystem);
        Assert.False(security.AllowPrivilegeEscalation);
        Assert.False(security.Privileged);
        Assert.Equal(["ALL"], security.Capabilities.Drop);
        Assert.Null(security.Capabilities.Add);
        Assert.Equal("RuntimeDefault", security.SeccompProfile.Type);

        var port = Assert.Single(container.Ports);
        Assert.Equal(("http", 8080), (port.Name, port.ContainerPort));
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("http", container.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("http", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.NotNull(container.Resources.Requests["cpu"]);
        Assert.NotNull(container.Resources.Requests["memory"]);
        Assert.NotNull(container.Resources.Limits["memory"]);

        Assert.Equal("metadata.name", container.Env.Single(e => e.Name == "POD_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.namespace", container.Env.Single(e => e.Name == "POD_NAMESPACE").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("/tmp", Assert.Single(container.VolumeMounts).MountPath);
        Assert.NotNull(Assert.Single(pod.Volumes).EmptyDir);
    }

    [Fact]
    public async Task Template_DeploymentArgs_AreUnderstoodByTheOperatorsCommandLine()
    {
        var chart = await HelmChart.RenderAsync(
            "--set rbac.namespaced=true --set watchNamespaces={team-a} --set workers=4 --set resyncPeriod=5m --set httpPort=9000 --set proxy.image.tag=9.9.9");

        var container = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);
        var parsed = OperatorCommandLine.Parse(container.Args.ToList());

        Assert.Empty(parsed.Problems);
        Assert.Equal(OperatorCommand.Run, parsed.Command);
        Assert.Equal("team-a", parsed.Options.Namespace);
        Assert.True(parsed.Options.LeaderElect);
        Assert.Equal(HelmChart.ReleaseNamespace, parsed.Options.LeaderElectionNamespace);
        Assert.Equal(4, parsed.Options.Workers);
        Assert.Equal(TimeSpan.FromMinutes(5), parsed.Options.ResyncPeriod);
        Assert.Equal(9000, parsed.Options.HttpPort);
        Assert.Equal(9000, Assert.Single(container.Ports).ContainerPort);
        Assert.Equal("ghcr.io/xks-operator/xks-proxy:9.9.9", parsed.Options.ProxyImage);
        var identity = parsed.Options.AwsIdentity();
        Assert.Empty(identity.AmbientNamespaces);
        Assert.Equal(HelmChart.ReleaseNamespace, parsed.Options.ClusterResourceNamespace);
        Assert.Equal(["*"], identity.AllowedRoleArns);
        Assert.False(identity.AllowHttpEndpoints);
    }

    [Fact]
    public async Task Template_VaultAllowListValues_BecomeTheOperatorsAllowList()
    {
        var chart = await HelmChart.RenderAsync(
            "--set vaults.allowedProxyImages={registry.example/xks/*} --set vaults.allowedPkcs11Libraries={/opt/nfast/lib.so} --set vaults.allowedAnnotationKeys={service.beta.kubernetes.io/*}");

        var container = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);
        var parsed = OperatorCommandLine.Parse(container.Args.ToList());

        Assert.Empty(parsed.Problems);
        var allowList = parsed.Options.VaultAllowList();
        Assert.Equal(["registry.example/xks/*"], allowList.EffectiveProxyImages);
        Assert.Equal(["/opt/nfast/lib.so"], allowList.Pkcs11Libraries);
        Assert.Equal(["service.beta.kubernetes.io/*"], allowList.AnnotationKeys);
    }

    [Fact]
    public async Task Template_DefaultNetworkPolicyValues_AreTheOperatorsBuiltInDefaults()
    {
        var container = Assert.Single((await HelmChart.RenderAsync()).Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);

        var parsed = OperatorCommandLine.Parse(container.Args.ToList());

        Assert.Empty(parsed.Problems);
        Assert.Equal(
            KubernetesJson.Serialize(new OperatorOptions().NetworkPolicyDefaults()),
            KubernetesJson.Serialize(parsed.Options.NetworkPolicyDefaults()));
    }

    [Fact]
    public async Task Template_NetworkPolicyValues_BecomeTheOperatorsDefaultsAndAnEmptyListAdmitsNoOne()
    {
        var chart = await HelmChart.RenderAsync(
            "--set vaults.networkPolicy.enabled=false --set vaults.networkPolicy.apiFrom[0].namespaceSelector.matchLabels.ingress=traefik"
            + " --set vaults.networkPolicy.loadBalancerApiFrom[0].ipBlock.cidr=10.20.0.0/16 --set vaults.networkPolicy.metricsFrom=null");

        var container = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);
        var parsed = OperatorCommandLine.Parse(container.Args.ToList());

        Assert.Empty(parsed.Problems);
        var defaults = parsed.Options.NetworkPolicyDefaults();
        Assert.False(defaults.Enabled);
        Assert.Equal("traefik", Assert.Single(defaults.IngressApiFrom).NamespaceSelector.MatchLabels["ingress"]);
        Assert.Equal("10.20.0.0/16", Assert.Single(defaults.LoadBalancerApiFrom).IpBlock.Cidr);
        Assert.Empty(defaults.MetricsFrom);
    }

    [Fact]
    public async Task Template_AwsIdentityValues_BecomeTheOperatorsIdentityPolicy()
    {
        var chart = await HelmChart.RenderAsync(
            "--set aws.ambientCredentialsNamespaces={platform} --set aws.allowedRoleArns={arn:aws:iam::444455556666:role/xks-*} --set aws.allowHttpEndpoints=true");

        var container = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);
        var parsed = OperatorCommandLine.Parse(container.Args.ToList());

        Assert.Empty(parsed.Problems);
        var identity = parsed.Options.AwsIdentity();
        Assert.Equal(["platform"], identity.AmbientNamespaces.Order(StringComparer.Ordinal));
        Assert.Equal(HelmChart.ReleaseNamespace, parsed.Options.ClusterResourceNamespace);
        Assert.Equal(["arn:aws:iam::444455556666:role/xks-*"], identity.AllowedRoleArns);
        Assert.True(identity.AllowHttpEndpoints);
    }

    [Fact]
    public async Task Template_HsmClientValues_MountTheClientConfigIntoTheOperatorPod()
    {
        var chart = await HelmChart.RenderAsync(
            "--set extraVolumes[0].name=luna-config --set extraVolumes[0].secret.secretName=luna-client-config"
            + " --set extraVolumeMounts[0].name=luna-config --set extraVolumeMounts[0].mountPath=/etc/luna --set extraVolumeMounts[0].readOnly=true"
            + " --set extraEnv[0].name=ChrystokiConfigurationPath --set extraEnv[0].value=/etc/luna");

        var pod = chart.Single<V1Deployment>("Deployment").Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        Assert.Equal(["tmp", "luna-config"], pod.Volumes.Select(v => v.Name));
        Assert.Equal("luna-client-config", pod.Volumes[1].Secret.SecretName);
        Assert.Equal([("/tmp", (bool?)null), ("/etc/luna", true)], container.VolumeMounts.Select(m => (m.MountPath, m.ReadOnlyProperty)));
        Assert.Contains(container.Env, e => e.Name == "ChrystokiConfigurationPath" && e.Value == "/etc/luna");
    }

    [Fact]
    public async Task Template_DefaultValues_ProxyImageIsTheOperatorsDefault()
    {
        var container = Assert.Single((await HelmChart.RenderAsync()).Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);

        var parsed = OperatorCommandLine.Parse(container.Args.ToList());

        Assert.Empty(parsed.Problems);
        Assert.Null(parsed.Options.Namespace);
        Assert.Equal(new OperatorOptions().ProxyImage, parsed.Options.ProxyImage);
    }

    [Fact]
    public async Task Template_DefaultValues_ClusterRoleCoversExactlyTheOperatorsResources()
    {
        var chart = await HelmChart.RenderAsync();

        var clusterRole = Assert.Single(chart.All<V1ClusterRole>("ClusterRole"), r => r.Metadata.Name == "xks-xks-operator");
        Assert.Equal(OperatorRbac.ExpectedClusterWide.Order(), OperatorRbac.Flatten(clusterRole.Rules).Order());

        var binding = chart.Single<V1ClusterRoleBinding>("ClusterRoleBinding");
        Assert.Equal(("ClusterRole", clusterRole.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", "xks-xks-operator", HelmChart.ReleaseNamespace), (subject.Kind, subject.Name, subject.NamespaceProperty));

        var leaderRole = chart.Single<V1Role>("Role");
        Assert.Equal(HelmChart.ReleaseNamespace, leaderRole.Metadata.NamespaceProperty);
        Assert.Equal(
            [("coordination.k8s.io", "leases", "create"), ("coordination.k8s.io", "leases", "get"), ("coordination.k8s.io", "leases", "update")],
            OperatorRbac.Flatten(leaderRole.Rules).Order());
        Assert.Equal(leaderRole.Metadata.Name, chart.Single<V1RoleBinding>("RoleBinding").RoleRef.Name);
    }

    /// <summary>The users' ClusterRoles of release "xks" (the operator itself has none with rbac.namespaced).</summary>
    private static readonly string[] UserRoles = ["xks-xks-operator-admin", "xks-xks-operator-editor", "xks-xks-operator-viewer"];

    [Fact]
    public async Task Template_DefaultValues_UserRolesGrantTheirKindsAndEventsNeverStatusOrSecrets()
    {
        var roles = (await HelmChart.RenderAsync("--set rbac.userRoles.namePrefix=team")).All<V1ClusterRole>("ClusterRole")
            .Where(r => r.Metadata.Name.StartsWith("team-", StringComparison.Ordinal))
            .ToDictionary(r => r.Metadata.Name, r => OperatorRbac.Flatten(r.Rules).ToList());
        string[] kinds = ["cloudkeys", "cspaccounts", "keysets", "vaults"];
        string[] read = ["get", "list", "watch"];
        string[] write = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

        (string, string, string)[] events = [.. new[] { "", "events.k8s.io" }.SelectMany(g => read.Select(v => (g, "events", v)))];

        Assert.Equal(["team-admin", "team-editor", "team-viewer"], roles.Keys.Order());
        Assert.Equal(kinds.SelectMany(k => write.Select(v => ("xks.dev", k, v))).Concat(events).Order(), roles["team-admin"].Order());
        Assert.Equal(
            write.Select(v => ("xks.dev", "cloudkeys", v)).Concat(kinds.Where(k => k != "cloudkeys").SelectMany(k => read.Select(v => ("xks.dev", k, v)))).Concat(events).Order(),
            roles["team-editor"].Order());
        Assert.Equal(kinds.SelectMany(k => read.Select(v => ("xks.dev", k, v))).Concat(events).Order(), roles["team-viewer"].Order());

        var aggregated = (await HelmChart.RenderAsync("--set rbac.userRoles.aggregateToDefaultRoles=true")).All<V1ClusterRole>("ClusterRole")
            .Where(r => UserRoles.Contains(r.Metadata.Name))
            .Select(r => r.Metadata.Labels.Where(l => l.Key.StartsWith("rbac.authorization.k8s.io/aggregate-to-", StringComparison.Ordinal)).Select(l => l.Key).Single())
            .Order();
        Assert.Equal(["rbac.authorization.k8s.io/aggregate-to-admin", "rbac.authorization.k8s.io/aggregate-to-edit", "rbac.authorization.k8s.io/aggregate-to-view"], aggregated);
        Assert.DoesNotContain((await HelmChart.RenderAsync("--set rbac.userRoles.create=false")).All<V1ClusterRole>("ClusterRole"), r => UserRoles.Contains(r.Metadata.Name));
    }

    [Fact]
    public async Task Template_NamespacedRbac_RendersRoleInTheWatchedNamespaceAndNoClusterRoleButTheUsers()
    {
        var chart = await HelmChart.RenderAsync("--set rbac.namespaced=true --set watchNamespaces={team-a}");

        Assert.Equal(UserRoles, chart.All<V1ClusterRole>("ClusterRole").Select(r => r.Metadata.Name).Order());
        Assert.Empty(chart.OfKind("ClusterRoleBinding"));
        var roles = chart.All<V1Role>("Role");
        Assert.Equal(2, roles.Count);
        var role = Assert.Single(roles, r => r.Metadata.NamespaceProperty == "team-a");
        Assert.Equal(OperatorRbac.Expected.Order(), OperatorRbac.Flatten(role.Rules).Order());
        var binding = Assert.Single(chart.All<V1RoleBinding>("RoleBinding"), b => b.Metadata.NamespaceProperty == "team-a");
        Assert.Equal(("Role", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        Assert.Equal(HelmChart.ReleaseNamespace, Assert.Single(binding.Subjects).NamespaceProperty);

        var leaderRole = Assert.Single(roles, r => r.Metadata.NamespaceProperty == HelmChart.ReleaseNamespace);
        Assert.All(leaderRole.Rules, r => Assert.Equal(["coordination.k8s.io"], r.ApiGroups));

        var args = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers).Args.ToList();
        Assert.Equal("team-a", args[args.IndexOf("--namespace") + 1]);
    }

    [Fact]
    public async Task Template_NamespacedRbacWithoutWatchNamespaces_WatchesTheReleaseNamespace()
    {
        var chart = await HelmChart.RenderAsync("--set rbac.namespaced=true");

        Assert.Equal(UserRoles, chart.All<V1ClusterRole>("ClusterRole").Select(r => r.Metadata.Name).Order());
        Assert.All(chart.All<V1Role>("Role"), r => Assert.Equal(HelmChart.ReleaseNamespace, r.Metadata.NamespaceProperty));
        Assert.Equal(2, chart.OfKind("Role").Count());
        var args = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers).Args.ToList();
        Assert.Equal(HelmChart.ReleaseNamespace, args[args.IndexOf("--namespace") + 1]);
    }

    [Fact]
    public async Task Template_DefaultValues_CrdsCarryKeepAnnotationAndChartLabels()
    {
        var crds = (await HelmChart.RenderAsync()).All<V1CustomResourceDefinition>("CustomResourceDefinition");

        Assert.NotEmpty(crds);
        Assert.All(crds, crd =>
        {
            Assert.Equal("xks.dev", crd.Spec.Group);
            Assert.Equal("keep", crd.Metadata.Annotations["helm.sh/resource-policy"]);
            Assert.Equal("Helm", crd.Metadata.Labels["app.kubernetes.io/managed-by"]);
        });
        Assert.Equal(
            Directory.GetFiles(HelmChart.CrdSourceDirectory, "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)).Order(),
            crds.Select(c => $"{c.Spec.Group}_{c.Spec.Names.Plural}").Order());
    }

    [Fact]
    public async Task Template_DefaultValues_CrdsEqualConfigCrdBasesApartFromChartMetadata()
    {
        var rendered = (await HelmChart.RenderAsync()).All<V1CustomResourceDefinition>("CustomResourceDefinition");

        foreach (var file in Directory.GetFiles(HelmChart.CrdSourceDirectory, "*.yaml"))
        {
            var source = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file));
            var crd = Assert.Single(rendered, c => c.Metadata.Name == source.Metadata.Name);
            crd.Metadata.Labels = source.Metadata.Labels;
            crd.Metadata.Annotations = source.Metadata.Annotations;
            Assert.Equal(Canonical(KubernetesJson.Serialize(source)), Canonical(KubernetesJson.Serialize(crd)));
        }
    }

    [Fact]
    public async Task Template_CrdsKeepFalse_RendersCrdsWithoutKeepAnnotation()
    {
        var crds = (await HelmChart.RenderAsync("--set crds.keep=false")).All<V1CustomResourceDefinition>("CustomResourceDefinition");

        Assert.NotEmpty(crds);
        Assert.All(crds, crd => Assert.False(crd.Metadata.Annotations?.ContainsKey("helm.sh/resource-policy") ?? false));
    }

    [Fact]
    public async Task Template_CrdsInstallFalse_RendersNoCrds()
    {
        var chart = await HelmChart.RenderAsync("--set crds.install=false");

        Assert.Empty(chart.OfKind("CustomResourceDefinition"));
        Assert.Single(chart.OfKind("Deployment"));
    }

    [Fact]
    public async Task Template_SingleReplica_RendersNoPodDisruptionBudget()
    {
        var chart = await HelmChart.RenderAsync("--set replicaCount=1");

        Assert.Empty(chart.OfKind("PodDisruptionBudget"));
        Assert.Equal(1, chart.Single<V1Deployment>("Deployment").Spec.Replicas);
    }

    private const string AllMonitoring =
        "--set monitoring.serviceMonitor.enabled=true --set monitoring.podMonitor.enabled=true --set monitoring.prometheusRule.enabled=true";

    [Fact]
    public async Task Template_ServiceMonitorEnabled_RendersServiceMonitorOnTheMetricsPortHonouringLabels()
    {
        var chart = await HelmChart.RenderAsync("--api-versions monitoring.coreos.com/v1 --set monitoring.serviceMonitor.enabled=true --set monitoring.serviceMonitor.labels.release=kps --set monitoring.serviceMonitor.interval=15s");

        var monitor = Assert.Single(chart.OfKind("ServiceMonitor"));
        Assert.Equal("monitoring.coreos.com/v1", monitor.ApiVersion);
        var spec = monitor.Node()["spec"]!;
        var endpoint = Assert.Single(spec["endpoints"]!.AsArray())!;
        Assert.Equal("http-metrics", endpoint["port"]!.GetValue<string>());
        Assert.Equal("/metrics", endpoint["path"]!.GetValue<string>());
        Assert.Equal("15s", endpoint["interval"]!.GetValue<string>());
        Assert.Equal("true", endpoint["honorLabels"]!.GetValue<string>());
        Assert.Equal("kps", monitor.Node()["metadata"]!["labels"]!["release"]!.GetValue<string>());
        Assert.Equal(HelmChart.ReleaseNamespace, Assert.Single(spec["namespaceSelector"]!["matchNames"]!.AsArray())!.GetValue<string>());
        var service = chart.Single<V1Service>("Service");
        Assert.Equal("http-metrics", Assert.Single(service.Spec.Ports).Name);
        Assert.Equal("http", Assert.Single(service.Spec.Ports).TargetPort.Value);
        Assert.Equal(service.Spec.Selector.OrderBy(l => l.Key), spec["selector"]!["matchLabels"]!.AsObject().Select(l => KeyValuePair.Create(l.Key, l.Value!.GetValue<string>())).OrderBy(l => l.Key));
    }

    [Fact]
    public async Task Template_MonitoringEnabledWithoutTheMonitoringApi_RendersNoMonitorsButTheDashboard()
    {
        var chart = await HelmChart.RenderAsync(AllMonitoring + " --set monitoring.grafanaDashboard.enabled=true");

        Assert.Empty(chart.OfKind("ServiceMonitor"));
        Assert.Empty(chart.OfKind("PodMonitor"));
        Assert.Empty(chart.OfKind("PrometheusRule"));
        Assert.Single(chart.OfKind("ConfigMap"));
    }

    [Theory]
    [InlineData("--api-versions monitoring.coreos.com/v1")]
    [InlineData("--set monitoring.force=true")]
    public async Task Template_MonitoringEnabledWithTheApiOrForced_RendersEveryMonitorAndTheRule(string arguments)
    {
        var chart = await HelmChart.RenderAsync(AllMonitoring + " " + arguments);

        Assert.Single(chart.OfKind("ServiceMonitor"));
        Assert.Single(chart.OfKind("PodMonitor"));
        Assert.Single(chart.OfKind("PrometheusRule"));
        Assert.All(chart.Objects.Where(o => o.ApiVersion == "monitoring.coreos.com/v1"), o => Assert.Equal(HelmChart.ReleaseNamespace, o.Namespace));
    }

    [Fact]
    public async Task Template_MonitoringApiServedButNothingEnabled_RendersNoMonitors()
    {
        var chart = await HelmChart.RenderAsync("--api-versions monitoring.coreos.com/v1");

        Assert.DoesNotContain(chart.Objects, o => o.ApiVersion == "monitoring.coreos.com/v1");
        Assert.Empty(chart.OfKind("ConfigMap"));
    }

    [Fact]
    public async Task Template_ProxyPodMonitor_SelectsEveryVaultsProxyPodsOnTheMetricsPortWithTheVaultLabel()
    {
        var chart = await HelmChart.RenderAsync("--api-versions monitoring.coreos.com/v1 --set monitoring.podMonitor.enabled=true --set monitoring.podMonitor.labels.release=kps");

        var monitor = Assert.Single(chart.OfKind("PodMonitor")).Node();
        var spec = monitor["spec"]!;
        var proxyPodLabels = VaultLabels.For(new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a" } });
        var selector = spec["selector"]!["matchLabels"]!.AsObject().ToDictionary(l => l.Key, l => l.Value!.GetValue<string>());
        Assert.NotEmpty(selector);
        Assert.All(selector, l => Assert.Equal(l.Value, proxyPodLabels[l.Key]));
        Assert.DoesNotContain(VaultLabels.VaultLabel, selector.Keys);
        Assert.Equal("true", spec["namespaceSelector"]!["any"]!.GetValue<string>());
        var endpoint = Assert.Single(spec["podMetricsEndpoints"]!.AsArray())!;
        Assert.Equal(ProxyLayout.MetricsPortName, endpoint["port"]!.GetValue<string>());
        var relabel = Assert.Single(endpoint["relabelings"]!.AsArray())!;
        Assert.Equal("__meta_kubernetes_pod_label_" + VaultLabels.VaultLabel.Replace('.', '_').Replace('/', '_'), Assert.Single(relabel["sourceLabels"]!.AsArray())!.GetValue<string>());
        Assert.Equal("vault", relabel["targetLabel"]!.GetValue<string>());
        Assert.Equal("kps", monitor["metadata"]!["labels"]!["release"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("--set monitoring.podMonitor.namespaceSelector.any=false --set monitoring.podMonitor.namespaceSelector.matchNames={team-a,team-b}", "team-a,team-b")]
    [InlineData("--set rbac.namespaced=true --set watchNamespaces={team-c}", "team-c")]
    public async Task Template_ProxyPodMonitor_NamespacesFromTheSelectorOrTheWatchedNamespace(string arguments, string expected)
    {
        var chart = await HelmChart.RenderAsync("--api-versions monitoring.coreos.com/v1 --set monitoring.podMonitor.enabled=true " + arguments);

        var selector = Assert.Single(chart.OfKind("PodMonitor")).Node()["spec"]!["namespaceSelector"]!;
        Assert.Equal(expected.Split(','), selector["matchNames"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.NotEqual("true", selector["any"]?.GetValue<string>());
    }

    [Fact]
    public async Task Template_PrometheusRule_CarriesTheShippedAlertsFileUnchanged()
    {
        var chart = await HelmChart.RenderAsync("--api-versions monitoring.coreos.com/v1 --set monitoring.prometheusRule.enabled=true --set monitoring.prometheusRule.labels.release=kps");

        var rule = Assert.Single(chart.OfKind("PrometheusRule")).Node();
        var shipped = YamlJson.Parse(File.ReadAllText(Path.Combine(HelmChart.Directory, "files", "alerts.yaml")));
        Assert.Equal(shipped.ToJsonString(), rule["spec"]!.ToJsonString());
        Assert.NotEmpty(rule["spec"]!["groups"]!.AsArray());
        Assert.Equal("kps", rule["metadata"]!["labels"]!["release"]!.GetValue<string>());
    }

    [Fact]
    public async Task Template_GrafanaDashboard_IsAConfigMapForTheSidecarHoldingTheDashboardFile()
    {
        var chart = await HelmChart.RenderAsync("--set monitoring.grafanaDashboard.enabled=true --set monitoring.grafanaDashboard.namespace=grafana --set monitoring.grafanaDashboard.annotations.grafana_folder=XKS");

        var map = chart.Single<V1ConfigMap>("ConfigMap");
        Assert.Equal("grafana", map.Metadata.NamespaceProperty);
        Assert.Equal("1", map.Metadata.Labels["grafana_dashboard"]);
        Assert.Equal("XKS", map.Metadata.Annotations["grafana_folder"]);
        var shipped = File.ReadAllText(Path.Combine(HelmChart.Directory, "files", "dashboards", "xks.json"));
        Assert.Equal(shipped.TrimEnd('\n'), map.Data["xks.json"]);
        Assert.Equal("xks-operator", JsonNode.Parse(map.Data["xks.json"])!["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task Template_ImageOverrides_SetOperatorAndProxyImages()
    {
        var digest = "sha256:" + new string('a', 64);
        var chart = await HelmChart.RenderAsync(
            $"--set image.repository=registry.example/op --set image.tag=1.2.3 --set proxy.image.repository=registry.example/px --set proxy.image.digest={digest}");

        var container = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers);
        Assert.Equal("registry.example/op:1.2.3", container.Image);
        Assert.Equal("registry.example/px@" + digest, container.Args[container.Args.IndexOf("--proxy-image") + 1]);
    }

    [Theory]
    [InlineData("--set replicaCount=two", "/replicaCount")]
    [InlineData("--set replicaCount=-1", "/replicaCount")]
    [InlineData("--set crds.install=yes", "/crds/install")]
    [InlineData("--set image.pullPolicy=Sometimes", "/image/pullPolicy")]
    [InlineData("--set logLevel=Verbose", "/logLevel")]
    [InlineData("--set rbac.namspaced=true", "namspaced")]
    [InlineData("--set replicas=2", "replicas")]
    [InlineData("--set watchNamespaces={Team_A}", "/watchNamespaces/0")]
    [InlineData("--set watchNamespaces={team-a,team-b}", "/watchNamespaces")]
    [InlineData("--set monitoring.serviceMonitor.interval=often", "/monitoring/serviceMonitor/interval")]
    [InlineData("--set monitoring.podMonitor.namespaceSelector.all=true", "all")]
    [InlineData("--set metrics.serviceMonitor.enabled=true", "serviceMonitor")]
    [InlineData("--set aws.allowedRoleArns={role/admin}", "/aws/allowedRoleArns/0")]
    [InlineData("--set aws.allowHttpEndpoints=sometimes", "/aws/allowHttpEndpoints")]
    public async Task Template_InvalidValues_FailsOnTheSchema(string arguments, string expectedLocation)
    {
        var result = await HelmChart.TemplateAsync("xks", arguments);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("values don't meet the specifications of the schema", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(expectedLocation, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_ReplicasWithoutLeaderElection_Fails()
    {
        var result = await HelmChart.TemplateAsync("xks", "--set leaderElection.enabled=false");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("requires leaderElection.enabled=true", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_SingleReplicaWithoutLeaderElection_PassesLeaderElectFalse()
    {
        var chart = await HelmChart.RenderAsync("--set leaderElection.enabled=false --set replicaCount=1");

        var args = Assert.Single(chart.Single<V1Deployment>("Deployment").Spec.Template.Spec.Containers).Args.ToList();
        Assert.Equal("false", args[args.IndexOf("--leader-elect") + 1]);
        Assert.DoesNotContain("--leader-election-namespace", args);
        Assert.Empty(chart.OfKind("Role"));
    }

    /// <summary>JSON with object keys sorted (helm's toYaml sorts them; the generator keeps declaration order).</summary>
    private static string Canonical(string json)
    {
        static JsonNode? Sort(JsonNode? node) => node switch
        {
            JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
            JsonArray a => new JsonArray(a.Select(Sort).ToArray()),
            _ => node?.DeepClone(),
        };

        return Sort(JsonNode.Parse(json))!.ToJsonString();
    }
}
