using System.Globalization;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The proxy Deployment of a Vault. The pod template depends only on the Vault's spec and the operator's default image,
/// never on KeySets or CloudKeys: the proxy applies those live from its watched config Secret, so adding a key or
/// disabling one never rolls the pods. Building twice from the same input gives equal objects, so re-applying is a
/// no-op on the server.
/// </summary>
public static class ProxyDeploymentBuilder
{
    /// <summary>Default requests and limits when spec.proxy.resources is not set.</summary>
    public static V1ResourceRequirements DefaultResources() => new()
    {
        Requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal)
        {
            ["cpu"] = new ResourceQuantity("100m"),
            ["memory"] = new ResourceQuantity("128Mi"),
        },
        Limits = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal)
        {
            ["memory"] = new ResourceQuantity("256Mi"),
        },
    };

    private const string MasterKeyVolume = "master-key";
    private const string PinVolume = "pkcs11-pin";
    private const string TlsVolume = "tls";
    private const string ClientCaVolume = "client-ca";
    private const string DataVolume = "data";
    private const string TmpVolume = "tmp";

    // Secret volumes are root-owned; fsGroup makes the group the proxy's, 0440 lets that group (and nobody else) read.
    // (0400 would leave the files readable by root only, i.e. not by uid 65532.)
    private const int SecretFileMode = 0x120; // 0440

    /// <param name="vault">The Vault (read from the API: it needs metadata.uid for the owner reference).</param>
    /// <param name="defaultImage">The operator's --proxy-image, used when spec.proxy.image is not set.</param>
    public static V1Deployment Build(V1Alpha1Vault vault, string defaultImage)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultImage);
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.Deployment(vault)),
            Spec = new V1DeploymentSpec
            {
                Replicas = vault.Spec.Replicas,
                RevisionHistoryLimit = 5,
                // A new replica serves a while before an old one stops, so load balancers have taken it in.
                MinReadySeconds = (vault.Spec.Proxy ?? new V1Alpha1VaultProxy()).MinReadySeconds,
                Selector = new V1LabelSelector { MatchLabels = VaultLabels.SelectorFor(vault) },
                Strategy = new V1DeploymentStrategy
                {
                    Type = "RollingUpdate",
                    // Never below the requested replicas during a rollout: KMS disconnects a key store whose proxy fails.
                    RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 },
                },
                Template = BuildPodTemplate(vault, defaultImage),
            },
        };
    }

    public static V1PodTemplateSpec BuildPodTemplate(V1Alpha1Vault vault, string defaultImage)
    {
        var proxy = vault.Spec.Proxy ?? new V1Alpha1VaultProxy();
        var tls = ProxyConfigModel.ProxyServesTls(vault);
        var annotations = Annotations.Merge(proxy.PodAnnotations, new Dictionary<string, string>
        {
            [VaultLabels.StartupConfigHashAnnotation] = ProxyConfigRenderer.StartupConfigHash(ProxyConfigModel.ForVault(vault)),
        });
        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = VaultLabels.For(vault), Annotations = annotations },
            Spec = new V1PodSpec
            {
                ServiceAccountName = VaultNames.ServiceAccount(vault),
                AutomountServiceAccountToken = true,
                EnableServiceLinks = false,
                TerminationGracePeriodSeconds = 30,
                SecurityContext = new V1PodSecurityContext
                {
                    RunAsNonRoot = true,
                    RunAsUser = ProxyLayout.RunAsUser,
                    RunAsGroup = ProxyLayout.RunAsUser,
                    FsGroup = ProxyLayout.RunAsUser,
                    SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                },
                Containers = [BuildContainer(vault, proxy, defaultImage, tls)],
                Volumes = BuildVolumes(vault, tls),
                NodeSelector = proxy.NodeSelector is { Count: > 0 } ? Annotations.Sorted(proxy.NodeSelector) : null,
                Tolerations = proxy.Tolerations is { Count: > 0 } ? [.. proxy.Tolerations] : null,
                Affinity = proxy.Affinity ?? DefaultAffinity(vault),
                TopologySpreadConstraints = TopologySpread(vault),
            },
        };
    }

    private static V1Container BuildContainer(V1Alpha1Vault vault, V1Alpha1VaultProxy proxy, string defaultImage, bool tls)
    {
        var scheme = tls ? "HTTPS" : "HTTP";
        var mounts = new List<V1VolumeMount> { new() { Name = TmpVolume, MountPath = ProxyLayout.TmpDirectory } };
        if (Pkcs11Of(vault) is not null)
        {
            // Keys live in the HSM: the pod gets the token's PIN, and no master key or data directory.
            mounts.Add(new V1VolumeMount { Name = PinVolume, MountPath = ProxyLayout.Pkcs11PinDirectory, ReadOnlyProperty = true });
        }
        else if (SealingPinOf(vault) is not null)
        {
            // HsmSealed: the versions are unwrapped through the HSM, so the pod gets the token's PIN and no master key.
            mounts.Add(new V1VolumeMount { Name = PinVolume, MountPath = ProxyLayout.Pkcs11PinDirectory, ReadOnlyProperty = true });
            mounts.Add(new V1VolumeMount { Name = DataVolume, MountPath = ProxyLayout.DataDirectory });
        }
        else if (ProxyBackendModel.ForVault(vault).IsShamir)
        {
            // Shamir: the sealed keyring is in the config and the unseal key arrives from custodians; no master key.
            mounts.Add(new V1VolumeMount { Name = DataVolume, MountPath = ProxyLayout.DataDirectory });
        }
        else
        {
            mounts.Add(new V1VolumeMount { Name = MasterKeyVolume, MountPath = ProxyLayout.MasterKeyDirectory, ReadOnlyProperty = true });
            mounts.Add(new V1VolumeMount { Name = DataVolume, MountPath = ProxyLayout.DataDirectory });
        }

        if (tls)
        {
            mounts.Add(new V1VolumeMount { Name = TlsVolume, MountPath = ProxyLayout.TlsDirectory, ReadOnlyProperty = true });
        }

        if (ProxyConfigModel.ClientCertificateOf(vault) is not null)
        {
            mounts.Add(new V1VolumeMount { Name = ClientCaVolume, MountPath = ProxyLayout.ClientCaDirectory, ReadOnlyProperty = true });
        }

        return new V1Container
        {
            Name = ProxyLayout.ContainerName,
            Image = string.IsNullOrWhiteSpace(proxy.Image) ? defaultImage : proxy.Image,
            ImagePullPolicy = proxy.ImagePullPolicy?.ToString(),
            // Drain on SIGTERM: /readyz 503 while still serving, so the endpoint and the LB target go before Kestrel stops.
            Args = ["serve", "--config-secret", VaultNames.ConfigSecret(vault), "--drain-seconds", ProxyLayout.DrainSeconds.ToString(CultureInfo.InvariantCulture)],
            Ports =
            [
                new V1ContainerPort { Name = ProxyLayout.XksPortName, ContainerPort = ProxyLayout.XksPort(tls), Protocol = "TCP" },
                new V1ContainerPort { Name = ProxyLayout.MetricsPortName, ContainerPort = ProxyLayout.MetricsPort, Protocol = "TCP" },
            ],
            Env =
            [
                new V1EnvVar { Name = "Logging__LogLevel__Default", Value = proxy.LogLevel.ToString() },
            ],
            // Started = config loaded and listening; generous for an HSM login, then liveness takes over.
            StartupProbe = Probe(ProxyLayout.LivenessPath, scheme, periodSeconds: 2, failureThreshold: 30),
            LivenessProbe = Probe(ProxyLayout.LivenessPath, scheme, periodSeconds: 10, failureThreshold: 3),
            ReadinessProbe = Probe(ProxyLayout.ReadinessPath, scheme, periodSeconds: 5, failureThreshold: 2),
            Resources = proxy.Resources ?? DefaultResources(),
            SecurityContext = new V1SecurityContext
            {
                RunAsNonRoot = true,
                RunAsUser = ProxyLayout.RunAsUser,
                RunAsGroup = ProxyLayout.RunAsUser,
                ReadOnlyRootFilesystem = true,
                AllowPrivilegeEscalation = false,
                Privileged = false,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
            VolumeMounts = [.. mounts.OrderBy(m => m.MountPath, StringComparer.Ordinal)],
            TerminationMessagePolicy = "FallbackToLogsOnError",
        };
    }

    private static V1Probe Probe(string path, string scheme, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = ProxyLayout.XksPortName, Scheme = scheme },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 2,
        FailureThreshold = failureThreshold,
        SuccessThreshold = 1,
    };

    private static List<V1Volume> BuildVolumes(V1Alpha1Vault vault, bool tls)
    {
        var volumes = new List<V1Volume> { new() { Name = TmpVolume, EmptyDir = new V1EmptyDirVolumeSource() } };
        if ((Pkcs11Of(vault) is { } pkcs11 ? pkcs11.PinSecretRef ?? new V1Alpha1SecretKeyReference() : null) is { } pin)
        {
            volumes.Add(PinVolumeOf(pin));
        }
        else if (SealingPinOf(vault) is { } sealingPin)
        {
            volumes.Add(PinVolumeOf(sealingPin));
            volumes.Add(new V1Volume { Name = DataVolume, EmptyDir = new V1EmptyDirVolumeSource() });
        }
        else if (ProxyBackendModel.ForVault(vault).IsShamir)
        {
            volumes.Add(new V1Volume { Name = DataVolume, EmptyDir = new V1EmptyDirVolumeSource() });
        }
        else
        {
            volumes.Add(new V1Volume
            {
                Name = MasterKeyVolume,
                Secret = new V1SecretVolumeSource
                {
                    SecretName = VaultNames.MasterKeySecret(vault),
                    DefaultMode = SecretFileMode,
                    Items = [new V1KeyToPath { Key = ProxyLayout.MasterKeyKey, Path = ProxyLayout.MasterKeyKey }],
                },
            });
            volumes.Add(new V1Volume { Name = DataVolume, EmptyDir = new V1EmptyDirVolumeSource() });
        }

        if (tls)
        {
            volumes.Add(new V1Volume
            {
                Name = TlsVolume,
                Secret = new V1SecretVolumeSource
                {
                    SecretName = VaultNames.ServingTlsSecret(vault),
                    DefaultMode = SecretFileMode,
                    Items =
                    [
                        new V1KeyToPath { Key = "tls.crt", Path = "tls.crt" },
                        new V1KeyToPath { Key = "tls.key", Path = "tls.key" },
                    ],
                },
            });
        }

        if (ProxyConfigModel.ClientCertificateOf(vault) is { } mtls)
        {
            // Only the CA bundle: the kubelet refreshes it in place and the proxy reloads it with its certificate.
            volumes.Add(new V1Volume
            {
                Name = ClientCaVolume,
                Secret = new V1SecretVolumeSource
                {
                    SecretName = mtls.CaSecretRef.Name,
                    DefaultMode = SecretFileMode,
                    Items =
                    [
                        new V1KeyToPath
                        {
                            Key = string.IsNullOrEmpty(mtls.CaSecretRef.Key) ? V1Alpha1VaultClientCertificate.DefaultCaKey : mtls.CaSecretRef.Key,
                            Path = ProxyLayout.ClientCaKey,
                        },
                    ],
                },
            });
        }

        return [.. volumes.OrderBy(v => v.Name, StringComparer.Ordinal)];
    }

    private static V1Volume PinVolumeOf(V1Alpha1SecretKeyReference pin) => new()
    {
        Name = PinVolume,
        Secret = new V1SecretVolumeSource
        {
            SecretName = pin.Name,
            DefaultMode = SecretFileMode,
            Items = [new V1KeyToPath { Key = string.IsNullOrEmpty(pin.Key) ? ProxyLayout.Pkcs11PinKey : pin.Key, Path = ProxyLayout.Pkcs11PinKey }],
        },
    };

    /// <summary>The PIN Secret of a HsmSealed Vault's root-key token (null for any other Vault).</summary>
    private static V1Alpha1SecretKeyReference? SealingPinOf(V1Alpha1Vault vault) =>
        ProxyBackendModel.ForVault(vault).IsHsmSealed ? vault.Spec.KeyProtection!.Hsm!.PinSecretRef ?? new V1Alpha1SecretKeyReference() : null;

    private static V1Alpha1Pkcs11Backend? Pkcs11Of(V1Alpha1Vault vault) =>
        vault.Spec.KeyBackend is { Type: V1Alpha1KeyBackendType.Pkcs11, Pkcs11: { } pkcs11 } ? pkcs11 : null;

    /// <summary>
    /// Spread over nodes and zones, both ScheduleAnyway: a hard (DoNotSchedule) node spread leaves a replacement pod
    /// Pending while a node is cordoned for a drain (1.20 counts cordoned nodes as domains), which costs a replica exactly
    /// when one is needed. A preferred anti-affinity (below) strengthens the node spread in scoring.
    /// </summary>
    private static List<V1TopologySpreadConstraint> TopologySpread(V1Alpha1Vault vault) =>
    [
        new()
        {
            TopologyKey = "kubernetes.io/hostname",
            MaxSkew = 1,
            WhenUnsatisfiable = "ScheduleAnyway",
            LabelSelector = new V1LabelSelector { MatchLabels = VaultLabels.SelectorFor(vault) },
        },
        new()
        {
            TopologyKey = "topology.kubernetes.io/zone",
            MaxSkew = 1,
            WhenUnsatisfiable = "ScheduleAnyway",
            LabelSelector = new V1LabelSelector { MatchLabels = VaultLabels.SelectorFor(vault) },
        },
    ];

    /// <summary>Used unless spec.proxy.affinity is given (then that is used as is).</summary>
    private static V1Affinity DefaultAffinity(V1Alpha1Vault vault) => new()
    {
        PodAntiAffinity = new V1PodAntiAffinity
        {
            PreferredDuringSchedulingIgnoredDuringExecution =
            [
                new V1WeightedPodAffinityTerm
                {
                    Weight = 100,
                    PodAffinityTerm = new V1PodAffinityTerm
                    {
                        TopologyKey = "kubernetes.io/hostname",
                        LabelSelector = new V1LabelSelector { MatchLabels = VaultLabels.SelectorFor(vault) },
                    },
                },
            ],
        },
    };
}
