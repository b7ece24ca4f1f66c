using k8s;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class ProxyDeploymentBuilderTests
{
    private const string DefaultImage = "registry.test/xks-proxy:9.9.9";

    private static V1Container Container(V1Deployment deployment) => Assert.Single(deployment.Spec.Template.Spec.Containers);

    [Fact]
    public void Build_Defaults_TwoReplicasRollingWithoutUnavailability()
    {
        var deployment = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage);

        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
        Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Equal("1", deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        Assert.Equal(VaultLabels.SelectorFor(ResourceTestSupport.MinimalVault()), deployment.Spec.Selector.MatchLabels);
        foreach (var (key, value) in deployment.Spec.Selector.MatchLabels)
        {
            Assert.Equal(value, deployment.Spec.Template.Metadata.Labels[key]);
        }
    }

    [Theory]
    [InlineData(null, 10)]
    [InlineData(0, 0)]
    [InlineData(45, 45)]
    public void Build_MinReadySeconds_IsTheSpecsOrTenSoLoadBalancersTakeANewReplicaInBeforeAnOldOneStops(int? specified, int expected)
    {
        var vault = ResourceTestSupport.MinimalVault();
        if (specified is { } seconds)
        {
            vault.Spec.Proxy.MinReadySeconds = seconds;
        }

        var deployment = ProxyDeploymentBuilder.Build(vault, DefaultImage);

        Assert.Equal(expected, deployment.Spec.MinReadySeconds);
    }

    [Fact]
    public void Build_Container_RunsServeAgainstTheConfigSecretWithTheDefaultImage()
    {
        var container = Container(ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage));

        Assert.Equal("proxy", container.Name);
        Assert.Equal(DefaultImage, container.Image);
        Assert.Null(container.ImagePullPolicy);
        Assert.Equal(["serve", "--config-secret", "demo-proxy-config", "--drain-seconds", "5"], container.Args);
        Assert.Null(container.Command);
        var env = Assert.Single(container.Env);
        Assert.Equal(("Logging__LogLevel__Default", "Information"), (env.Name, env.Value));
    }

    [Fact]
    public void Build_ProxySettings_TakeImagePullPolicyLogLevelAndResourcesFromTheSpec()
    {
        var resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2") } };
        var vault = ResourceTestSupport.MinimalVault(s => s.Proxy = new V1Alpha1VaultProxy
        {
            Image = "mine:1",
            ImagePullPolicy = V1Alpha1ImagePullPolicy.Always,
            LogLevel = V1Alpha1ProxyLogLevel.Warning,
            Resources = resources,
        });

        var container = Container(ProxyDeploymentBuilder.Build(vault, DefaultImage));

        Assert.Equal("mine:1", container.Image);
        Assert.Equal("Always", container.ImagePullPolicy);
        Assert.Equal("Warning", Assert.Single(container.Env).Value);
        Assert.Same(resources, container.Resources);
    }

    [Fact]
    public void Build_NoResourcesInSpec_UsesDefaultRequestsAndMemoryLimit()
    {
        var container = Container(ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage));

        Assert.Equal("100m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("128Mi", container.Resources.Requests["memory"].ToString());
        Assert.Equal("256Mi", container.Resources.Limits["memory"].ToString());
        Assert.False(container.Resources.Limits.ContainsKey("cpu"));
    }

    [Fact]
    public void Build_SecurityContext_NonRootReadOnlyNoCapabilitiesRuntimeDefaultSeccomp()
    {
        var deployment = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage);
        var pod = deployment.Spec.Template.Spec.SecurityContext;
        var container = Container(deployment).SecurityContext;

        Assert.True(pod.RunAsNonRoot);
        Assert.Equal(65532, pod.RunAsUser);
        Assert.Equal(65532, pod.FsGroup);
        Assert.Equal("RuntimeDefault", pod.SeccompProfile.Type);
        Assert.True(container.RunAsNonRoot);
        Assert.Equal(65532, container.RunAsUser);
        Assert.True(container.ReadOnlyRootFilesystem);
        Assert.False(container.AllowPrivilegeEscalation);
        Assert.False(container.Privileged);
        Assert.Equal(["ALL"], container.Capabilities.Drop);
        Assert.Null(container.Capabilities.Add);
        Assert.Equal("RuntimeDefault", container.SeccompProfile.Type);
    }

    [Theory]
    [InlineData(V1Alpha1ExposureType.Ingress, 8080, "HTTP")]
    [InlineData(V1Alpha1ExposureType.LoadBalancer, 8443, "HTTPS")]
    public void Build_Probes_HitTheUnauthenticatedEndpointsOnTheXksPort(V1Alpha1ExposureType exposure, int port, string scheme)
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure { Type = exposure });

        var container = Container(ProxyDeploymentBuilder.Build(vault, DefaultImage));

        Assert.Equal([(ProxyLayout.XksPortName, port), (ProxyLayout.MetricsPortName, 9090)], container.Ports.Select(p => (p.Name, p.ContainerPort)));
        Assert.Equal(("/healthz", scheme), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Scheme));
        Assert.Equal(("/readyz", scheme), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Scheme));
        Assert.Equal(("/healthz", scheme), (container.StartupProbe.HttpGet.Path, container.StartupProbe.HttpGet.Scheme));
        Assert.All([container.LivenessProbe, container.ReadinessProbe, container.StartupProbe], p => Assert.Equal(ProxyLayout.XksPortName, p.HttpGet.Port.Value));
    }

    [Fact]
    public void Build_IngressExposure_MountsMasterKeyAndScratchButNoTlsNorConfig()
    {
        var deployment = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage);
        var volumes = deployment.Spec.Template.Spec.Volumes;

        Assert.Equal(["data", "master-key", "tmp"], volumes.Select(v => v.Name));
        var masterKey = volumes.Single(v => v.Name == "master-key").Secret;
        Assert.Equal("demo-master-key", masterKey.SecretName);
        Assert.Equal(Convert.ToInt32("440", 8), masterKey.DefaultMode);
        Assert.Equal(["master.key"], masterKey.Items.Select(i => i.Path));
        var mounts = Container(deployment).VolumeMounts;
        Assert.Equal(["/tmp", "/var/lib/xks", "/var/run/xks/master-key"], mounts.Select(m => m.MountPath));
        Assert.True(mounts.Single(m => m.Name == "master-key").ReadOnlyProperty);
        Assert.DoesNotContain(volumes, v => v.Secret?.SecretName == "demo-proxy-config");
    }

    [Fact]
    public void Build_LoadBalancerExposure_MountsTheTlsSecretReadOnly()
    {
        var vault = ResourceTestSupport.MinimalVault(s =>
        {
            s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer };
            s.Tls = new V1Alpha1VaultTls { SecretName = "my-cert" };
        });

        var deployment = ProxyDeploymentBuilder.Build(vault, DefaultImage);

        var tls = deployment.Spec.Template.Spec.Volumes.Single(v => v.Name == "tls").Secret;
        Assert.Equal("my-cert", tls.SecretName);
        Assert.Equal(["tls.crt", "tls.key"], tls.Items.Select(i => i.Path));
        var mount = Container(deployment).VolumeMounts.Single(m => m.Name == "tls");
        Assert.Equal("/var/run/xks/tls", mount.MountPath);
        Assert.True(mount.ReadOnlyProperty);
        Assert.Null(mount.SubPath);
    }

    [Fact]
    public void Build_ClientCertificate_MountsOnlyTheCaBundleReadOnlyWhereTheConfigNamesIt()
    {
        var vault = ResourceTestSupport.MinimalVault(s =>
        {
            s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer };
            s.Tls = new V1Alpha1VaultTls
            {
                SecretName = "my-cert",
                ClientCertificate = new V1Alpha1VaultClientCertificate
                {
                    CaSecretRef = new V1Alpha1CaSecretReference { Name = "kms-ca" },
                    AllowedSubjects = ["cks.kms.us-east-1.amazonaws.com"],
                },
            };
        });

        var deployment = ProxyDeploymentBuilder.Build(vault, DefaultImage);

        var ca = deployment.Spec.Template.Spec.Volumes.Single(v => v.Name == "client-ca").Secret;
        Assert.Equal("kms-ca", ca.SecretName);
        Assert.Equal(Convert.ToInt32("440", 8), ca.DefaultMode);
        var item = Assert.Single(ca.Items);
        Assert.Equal(("ca.crt", "ca.crt"), (item.Key, item.Path));
        var mount = Container(deployment).VolumeMounts.Single(m => m.Name == "client-ca");
        Assert.Equal(ProxyLayout.ClientCaDirectory, mount.MountPath);
        Assert.Equal(ProxyLayout.ClientCaFile, $"{mount.MountPath}/{item.Path}");
        Assert.True(mount.ReadOnlyProperty);
    }

    [Fact]
    public void Build_NoClientCertificate_MountsNoCa()
    {
        var vault = ResourceTestSupport.MinimalVault(s =>
        {
            s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer };
            s.Tls = new V1Alpha1VaultTls { SecretName = "my-cert" };
        });

        Assert.DoesNotContain(ProxyDeploymentBuilder.Build(vault, DefaultImage).Spec.Template.Spec.Volumes, v => v.Name == "client-ca");
    }

    [Fact]
    public void Build_Scheduling_SpreadsOverNodesAndZonesWithDefaultAntiAffinity()
    {
        var vault = ResourceTestSupport.MinimalVault();
        var pod = ProxyDeploymentBuilder.Build(vault, DefaultImage).Spec.Template.Spec;

        Assert.Equal(
            [("kubernetes.io/hostname", "ScheduleAnyway"), ("topology.kubernetes.io/zone", "ScheduleAnyway")],
            pod.TopologySpreadConstraints.Select(c => (c.TopologyKey, c.WhenUnsatisfiable)));
        Assert.All(pod.TopologySpreadConstraints, c => Assert.Equal(VaultLabels.SelectorFor(vault), c.LabelSelector.MatchLabels));
        var preferred = Assert.Single(pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution);
        Assert.Equal("kubernetes.io/hostname", preferred.PodAffinityTerm.TopologyKey);
        Assert.Null(pod.NodeSelector);
        Assert.Null(pod.Tolerations);
    }

    [Fact]
    public void Build_AffinityNodeSelectorTolerationsInSpec_AreUsedAsGiven()
    {
        var affinity = new V1Affinity { NodeAffinity = new V1NodeAffinity() };
        var toleration = new V1Toleration { Key = "k", OperatorProperty = "Exists" };
        var vault = ResourceTestSupport.MinimalVault(s => s.Proxy = new V1Alpha1VaultProxy
        {
            Affinity = affinity,
            NodeSelector = new Dictionary<string, string> { ["zone"] = "a" },
            Tolerations = [toleration],
        });

        var pod = ProxyDeploymentBuilder.Build(vault, DefaultImage).Spec.Template.Spec;

        Assert.Same(affinity, pod.Affinity);
        Assert.Equal("a", pod.NodeSelector["zone"]);
        Assert.Same(toleration, Assert.Single(pod.Tolerations));
        Assert.Equal(2, pod.TopologySpreadConstraints.Count);
    }

    [Fact]
    public void Build_PodAnnotations_AreKeptButCannotOverrideTheStartupHash()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Proxy = new V1Alpha1VaultProxy
        {
            PodAnnotations = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1", [VaultLabels.StartupConfigHashAnnotation] = "forged" },
        });

        var annotations = ProxyDeploymentBuilder.Build(vault, DefaultImage).Spec.Template.Metadata.Annotations;

        Assert.Equal(["a", "b", VaultLabels.StartupConfigHashAnnotation], annotations.Keys);
        Assert.Equal(ProxyConfigRenderer.StartupConfigHash(ProxyConfigModel.ForVault(vault)), annotations[VaultLabels.StartupConfigHashAnnotation]);
    }

    [Fact]
    public void Build_ReplicasChange_LeavesThePodTemplateUnchanged()
    {
        // fleetSize changes in the config (applied live); the pod template must not roll for it.
        var two = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage);
        var five = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(s => s.Replicas = 5), DefaultImage);

        Assert.Equal(5, five.Spec.Replicas);
        Assert.Equal(KubernetesJson.Serialize(two.Spec.Template), KubernetesJson.Serialize(five.Spec.Template));
    }

    [Fact]
    public void Build_ExposureChange_ChangesThePodTemplateHash()
    {
        var ingress = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage);
        var lb = ProxyDeploymentBuilder.Build(
            ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer }),
            DefaultImage);

        Assert.NotEqual(
            ingress.Spec.Template.Metadata.Annotations[VaultLabels.StartupConfigHashAnnotation],
            lb.Spec.Template.Metadata.Annotations[VaultLabels.StartupConfigHashAnnotation]);
    }

    [Fact]
    public void Build_ServiceAccount_IsTheProxysWithTokenAndNoServiceLinks()
    {
        var pod = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage).Spec.Template.Spec;

        Assert.Equal("demo-proxy", pod.ServiceAccountName);
        Assert.True(pod.AutomountServiceAccountToken);
        Assert.False(pod.EnableServiceLinks);
    }

    [Fact]
    public void Build_Pkcs11Backend_MountsThePinSecretAndNoMasterKey()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.KeyBackend = new V1Alpha1KeyBackend
        {
            Type = V1Alpha1KeyBackendType.Pkcs11,
            Pkcs11 = new V1Alpha1Pkcs11Backend
            {
                Library = "/usr/lib/softhsm/libsofthsm2.so",
                TokenLabel = "xks",
                PinSecretRef = new V1Alpha1SecretKeyReference { Name = "hsm-pin", Key = "user-pin" },
            },
        });

        var deployment = ProxyDeploymentBuilder.Build(vault, DefaultImage);

        var volumes = deployment.Spec.Template.Spec.Volumes;
        Assert.Equal(["pkcs11-pin", "tmp"], volumes.Select(v => v.Name));
        var pin = volumes.Single(v => v.Name == "pkcs11-pin").Secret;
        Assert.Equal("hsm-pin", pin.SecretName);
        Assert.Equal(0x120, pin.DefaultMode);
        var item = Assert.Single(pin.Items);
        Assert.Equal(("user-pin", ProxyLayout.Pkcs11PinKey), (item.Key, item.Path));
        var mount = Container(deployment).VolumeMounts.Single(m => m.Name == "pkcs11-pin");
        Assert.Equal(ProxyLayout.Pkcs11PinDirectory, mount.MountPath);
        Assert.True(mount.ReadOnlyProperty);
        Assert.Equal(ProxyLayout.Pkcs11PinFile, mount.MountPath + "/" + item.Path);
        Assert.DoesNotContain(Container(deployment).VolumeMounts, m => m.MountPath == ProxyLayout.MasterKeyDirectory);
        Assert.DoesNotContain("master-key", KubernetesJson.Serialize(deployment), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_BackendChanged_RollsThePods()
    {
        var software = ProxyDeploymentBuilder.Build(ResourceTestSupport.MinimalVault(), DefaultImage);
        var pkcs11 = ProxyDeploymentBuilder.Build(ResourceTestSupport.LoadVault("pkcs11-hsm"), DefaultImage);
        var otherToken = ResourceTestSupport.LoadVault("pkcs11-hsm");
        otherToken.Spec.KeyBackend.Pkcs11!.TokenLabel = "hsm2";

        var hashes = new[] { software, pkcs11, ProxyDeploymentBuilder.Build(otherToken, DefaultImage) }
            .Select(d => d.Spec.Template.Metadata.Annotations[VaultLabels.StartupConfigHashAnnotation]);

        Assert.Equal(3, hashes.Distinct().Count());
    }
}
