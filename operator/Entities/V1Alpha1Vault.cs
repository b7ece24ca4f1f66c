using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

[KubernetesEntity(Group = "xks.dev", ApiVersion = "v1alpha1", Kind = "Vault", PluralName = "vaults")]
[ShortName("xv")]
[Categories("xks")]
[PrinterColumn("Hostname", "string", ".spec.hostname", Description = "Hostname AWS KMS calls")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", Description = "Whether the proxy is serving")]
[PrinterColumn("Replicas", "integer", ".status.readyReplicas", Description = "Ready proxy replicas")]
[PrinterColumn("Endpoint", "string", ".status.endpoint", 1, Description = "Endpoint to register in AWS KMS")]
[PrinterColumn("Reason", "string", ".status.conditions[?(@.type==\"Ready\")].reason", 1, Description = "Why the resource is or is not ready")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[Description("A Vault is an XKS proxy run by the operator: a Deployment of xks-proxy serving the AWS KMS External Key Store API on https://<hostname>, with its TLS certificate, exposure (Ingress or LoadBalancer) and key backend. KeySets and CloudKeys refer to it.")]
public sealed class V1Alpha1Vault : CustomResource<V1Alpha1VaultSpec, V1Alpha1VaultStatus>;

public sealed class V1Alpha1VaultList : CustomResourceList<V1Alpha1Vault>;

[Description("Desired state of the Vault.")]
public sealed class V1Alpha1VaultSpec
{
    [JsonPropertyName("replicas")]
    [Range(1, 50)]
    [DefaultValue(2)]
    [Description("Number of proxy pods. Default 2, between 1 and 50. 1 is only accepted together with allowSingleReplica: true (otherwise Ready=False, reason InvalidSpec), because AWS KMS disconnects a key store whose proxy is down.")]
    public int Replicas { get; set; } = 2;

    [JsonPropertyName("allowSingleReplica")]
    [DefaultValue(false)]
    [Description("Allow replicas: 1 (no redundancy; for tests and demos). Default false.")]
    public bool AllowSingleReplica { get; set; }

    [JsonPropertyName("hostname")]
    [Required]
    [Length(1, 253)]
    [Pattern(Patterns.Hostname)]
    [Description("Fully qualified DNS name AWS KMS calls on port 443, e.g. xks.example.com. Lowercase, no port, no IP address. The serving certificate must cover it.")]
    public string Hostname { get; set; } = "";

    [JsonPropertyName("tls")]
    [Description("Serving certificate of the proxy endpoint. Set tls.issuerRef (the operator requests a cert-manager Certificate) or tls.secretName (an existing kubernetes.io/tls Secret); without either the Vault is not Ready (reason InvalidSpec).")]
    public V1Alpha1VaultTls? Tls { get; set; }

    [JsonPropertyName("exposure")]
    [DefaultValue("{}")]
    [Description("How the endpoint is reachable from AWS KMS. Default: an Ingress.")]
    public V1Alpha1VaultExposure Exposure { get; set; } = new();

    [JsonPropertyName("keyBackend")]
    [DefaultValue("{}")]
    [Description("Where the key material lives. Default: the software backend (keys encrypted under a master key held in a Secret).")]
    public V1Alpha1KeyBackend KeyBackend { get; set; } = new();

    [JsonPropertyName("keyProtection")]
    [Description("How the root of trust of the software backend is kept (docs/key-custody.md). Left out: Plaintext, the development mode (the master key is a plain Secret; the Vault reports RootKeyProtected=False). HsmSealed: no master key exists; a non-extractable root key in a PKCS#11 token wraps every key version, so etcd and Secrets hold sealed blobs only.")]
    public V1Alpha1KeyProtection? KeyProtection { get; set; }

    [JsonPropertyName("proxy")]
    [DefaultValue("{}")]
    [Description("Settings of the proxy pods: image, resources, scheduling, log level.")]
    public V1Alpha1VaultProxy Proxy { get; set; } = new();

    [JsonPropertyName("networkPolicy")]
    [Description("The NetworkPolicy <vault>-proxy that limits who may connect to the proxy pods: the XKS API port only from apiFrom, the metrics port only from metricsFrom, nothing else. Every field left out takes the operator's default (chart values vaults.networkPolicy.*). Enforced only by a CNI that implements NetworkPolicy (Calico, Cilium, ...).")]
    public V1Alpha1VaultNetworkPolicy? NetworkPolicy { get; set; }
}

[Description("This Vault's NetworkPolicy; every field left out takes the operator's default.")]
public sealed class V1Alpha1VaultNetworkPolicy
{
    [JsonPropertyName("enabled")]
    [Description("Whether the operator keeps a NetworkPolicy for the proxy pods. Default: the operator's --network-policy (chart value vaults.networkPolicy.enabled, true unless changed). false deletes the one it made.")]
    public bool? Enabled { get; set; }

    [JsonPropertyName("apiFrom")]
    [PreserveUnknownFields]
    [Description("Who may connect to the XKS API port (networking.k8s.io/v1 NetworkPolicyPeer: podSelector, namespaceSelector, ipBlock). Replaces the operator's default for this Vault: exposure Ingress, the ingress controller's namespace (kubernetes.io/metadata.name: ingress-nginx unless changed); exposure LoadBalancer, any address (0.0.0.0/0 and ::/0), since AWS KMS calls from outside the cluster. An empty list lets no one in.")]
    public IList<V1NetworkPolicyPeer>? ApiFrom { get; set; }

    [JsonPropertyName("metricsFrom")]
    [PreserveUnknownFields]
    [Description("Who may scrape the metrics port (networking.k8s.io/v1 NetworkPolicyPeer). Replaces the operator's default for this Vault (the namespace labelled kubernetes.io/metadata.name: monitoring unless changed). An empty list lets no one in.")]
    public IList<V1NetworkPolicyPeer>? MetricsFrom { get; set; }
}

[Description("Serving certificate of the proxy endpoint.")]
public sealed class V1Alpha1VaultTls
{
    [JsonPropertyName("issuerRef")]
    [Description("cert-manager issuer that signs the certificate. When set, the operator creates a Certificate for the hostname whose Secret is secretName (default <vault>-tls).")]
    public V1Alpha1IssuerReference? IssuerRef { get; set; }

    [JsonPropertyName("secretName")]
    [Length(1, 253)]
    [Description("Name of the kubernetes.io/tls Secret with the serving certificate. Without issuerRef, the Secret must exist and is used as is; with issuerRef, it is the Secret cert-manager writes (default <vault>-tls).")]
    public string? SecretName { get; set; }

    [JsonPropertyName("duration")]
    [Pattern(Patterns.Duration)]
    [Description("Requested lifetime of the certificate as a Go duration, e.g. 2160h. Only with issuerRef; default: the issuer's (cert-manager: 2160h).")]
    public string? Duration { get; set; }

    [JsonPropertyName("renewBefore")]
    [Pattern(Patterns.Duration)]
    [Description("How long before expiry cert-manager renews the certificate, as a Go duration, e.g. 360h. Only with issuerRef; default: cert-manager's (a third of the duration).")]
    public string? RenewBefore { get; set; }

    [JsonPropertyName("backendIssuerRef")]
    [Description("Backend TLS for exposure Ingress: cert-manager issuer (typically a CA issuer the platform team runs, so the Secret carries ca.crt) of a certificate for the proxy Service's cluster name <vault>-proxy.<namespace>.svc. With it the proxy serves HTTPS on its backend port and the Ingress verifies it (ingress-nginx proxy-ssl-* annotations), so data keys never cross the pod network in clear. Only with spec.exposure.type Ingress.")]
    public V1Alpha1IssuerReference? BackendIssuerRef { get; set; }

    [JsonPropertyName("privateCa")]
    [DefaultValue(false)]
    [Description("Test and development only. With secretName and no issuerRef, accept a serving certificate that chains to a CA in the Secret's ca.crt (or, without ca.crt, to a self-signed certificate in tls.crt) instead of a publicly trusted CA. AWS KMS accepts only certificates from a public CA it trusts, for a public endpoint and for a VPC endpoint service alike, so a key store using such a Vault will not connect in AWS (an emulator or a private test setup can trust the CA). Default false: the certificate must chain to a root of the operator's system trust store.")]
    public bool PrivateCa { get; set; }

    [JsonPropertyName("clientCertificate")]
    [Description("Mutual TLS: the proxy completes a handshake only with clients whose certificate chains to the CA in caSecretRef and names one of allowedSubjects (AWS KMS presents a certificate for cks.kms.<region>.amazonaws.com). Only with spec.exposure.type LoadBalancer, where the proxy terminates TLS; with an Ingress the Vault is not Ready (reason InvalidSpec).")]
    public V1Alpha1VaultClientCertificate? ClientCertificate { get; set; }
}

[Description("Client certificates the proxy accepts (mutual TLS).")]
public sealed class V1Alpha1VaultClientCertificate
{
    /// <summary>Default key of the CA bundle in <see cref="CaSecretRef"/>.</summary>
    public const string DefaultCaKey = "ca.crt";

    [JsonPropertyName("caSecretRef")]
    [Required]
    [Description("Secret in the Vault's namespace holding the PEM bundle of the CAs that issue accepted client certificates (key default ca.crt). Mounted read-only into the proxy pods at /var/run/xks/client-ca/ca.crt.")]
    public V1Alpha1CaSecretReference CaSecretRef { get; set; } = new();

    [JsonPropertyName("allowedSubjects")]
    [Required]
    [Length(1, 32)]
    [Description("Accepted subject names, matched against the client certificate's common name and DNS names, e.g. cks.kms.us-east-1.amazonaws.com (AWS KMS in us-east-1). Required: a Vault serves KeySets of any region, so the operator cannot choose them.")]
    public IList<string> AllowedSubjects { get; set; } = [];
}

[Description("A key of a Secret in the same namespace holding a PEM CA bundle.")]
public sealed class V1Alpha1CaSecretReference
{
    [JsonPropertyName("name")]
    [Required]
    [Length(1, 253)]
    [Description("Name of the Secret, in the same namespace.")]
    public string Name { get; set; } = "";

    [JsonPropertyName("key")]
    [DefaultValue(V1Alpha1VaultClientCertificate.DefaultCaKey)]
    [Description("Key in the Secret's data. Default ca.crt.")]
    public string Key { get; set; } = V1Alpha1VaultClientCertificate.DefaultCaKey;
}

[Description("A reference to a cert-manager Issuer or ClusterIssuer.")]
public sealed class V1Alpha1IssuerReference
{
    [JsonPropertyName("name")]
    [Required]
    [Length(1, 253)]
    [Description("Name of the issuer. An Issuer must be in the Vault's namespace.")]
    public string Name { get; set; } = "";

    [JsonPropertyName("kind")]
    [DefaultValue("Issuer")]
    [Description("Kind of the issuer: Issuer (default) or ClusterIssuer, or the kind of an external issuer.")]
    public string Kind { get; set; } = "Issuer";

    [JsonPropertyName("group")]
    [DefaultValue("cert-manager.io")]
    [Description("API group of the issuer. Default cert-manager.io; set it for external issuers.")]
    public string Group { get; set; } = "cert-manager.io";
}

[Description("How the endpoint is reachable from AWS KMS.")]
public sealed class V1Alpha1VaultExposure
{
    [JsonPropertyName("type")]
    [DefaultValue(V1Alpha1ExposureType.Ingress)]
    [Description("Ingress (default): an Ingress for the hostname terminates TLS and forwards plain HTTP to the proxy. LoadBalancer: a Service of type LoadBalancer on port 443; the proxy terminates TLS itself.")]
    public V1Alpha1ExposureType Type { get; set; } = V1Alpha1ExposureType.Ingress;

    [JsonPropertyName("ingress")]
    [Description("Settings of the Ingress (type Ingress).")]
    public V1Alpha1VaultIngress? Ingress { get; set; }

    [JsonPropertyName("loadBalancer")]
    [Description("Settings of the LoadBalancer Service (type LoadBalancer).")]
    public V1Alpha1VaultLoadBalancer? LoadBalancer { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1ExposureType>))]
public enum V1Alpha1ExposureType
{
    Ingress,
    LoadBalancer,
}

[Description("Settings of the Ingress.")]
public sealed class V1Alpha1VaultIngress
{
    [JsonPropertyName("className")]
    [Description("IngressClass to use, e.g. nginx. Default: the cluster's default IngressClass.")]
    public string? ClassName { get; set; }

    [JsonPropertyName("annotations")]
    [Description("Extra annotations on the Ingress, e.g. for the controller's timeouts or allow-lists.")]
    public IDictionary<string, string>? Annotations { get; set; }
}

[Description("Settings of the LoadBalancer Service.")]
public sealed class V1Alpha1VaultLoadBalancer
{
    [JsonPropertyName("annotations")]
    [Description("Extra annotations on the Service, e.g. service.beta.kubernetes.io/aws-load-balancer-type: nlb.")]
    public IDictionary<string, string>? Annotations { get; set; }

    [JsonPropertyName("loadBalancerSourceRanges")]
    [Description("CIDRs allowed to reach the load balancer, if the cloud provider supports it. Default: everyone.")]
    public IList<string>? LoadBalancerSourceRanges { get; set; }

    [JsonPropertyName("externalTrafficPolicy")]
    [DefaultValue(V1Alpha1ExternalTrafficPolicy.Local)]
    [Description("Local (default): the load balancer reaches only nodes that run a proxy pod (no second hop, the client address preserved). Cluster: every node forwards to any proxy pod (for load balancers that cannot health-check per node, or a single kube-proxy for several nodes).")]
    public V1Alpha1ExternalTrafficPolicy ExternalTrafficPolicy { get; set; } = V1Alpha1ExternalTrafficPolicy.Local;
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1ExternalTrafficPolicy>))]
public enum V1Alpha1ExternalTrafficPolicy
{
    Local,
    Cluster,
}

[Description("Where the key material lives.")]
public sealed class V1Alpha1KeyBackend
{
    [JsonPropertyName("type")]
    [DefaultValue(V1Alpha1KeyBackendType.Software)]
    [Description("Software (default): AES keys generated by the operator, encrypted under a master key in the Secret <vault>-master-key. Pkcs11: keys in an HSM reached through a PKCS#11 library.")]
    public V1Alpha1KeyBackendType Type { get; set; } = V1Alpha1KeyBackendType.Software;

    [JsonPropertyName("pkcs11")]
    [Description("Settings of the PKCS#11 backend (type Pkcs11).")]
    public V1Alpha1Pkcs11Backend? Pkcs11 { get; set; }
}

[Description("How the root of trust of the software backend is kept.")]
public sealed class V1Alpha1KeyProtection
{
    [JsonPropertyName("mode")]
    [DefaultValue(V1Alpha1KeyProtectionMode.Plaintext)]
    [Description("Plaintext (default; development only): the master key is the plain Secret <vault>-master-key. HsmSealed: a non-extractable AES-256 root key in the token of keyProtection.hsm wraps every key version inside the HSM (C_WrapKey); the operator never sees key material and the proxy unwraps the versions through the HSM at start. Shamir: the root key is sealed under an unseal key split among custodians (xks-operator shamir init makes the keyring Secret <vault>-keyring and the share files); proxies start sealed until k custodians unseal one (docs/key-custody.md). Changing the mode of a Vault that has keys is refused per CloudKey (Conflict).")]
    public V1Alpha1KeyProtectionMode Mode { get; set; } = V1Alpha1KeyProtectionMode.Plaintext;

    [JsonPropertyName("hsm")]
    [Description("The PKCS#11 token holding the root key (mode HsmSealed). The proxy pods mount the PIN Secret; the operator makes the root key and seals key versions through the library.")]
    public V1Alpha1SealingHsm? Hsm { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1KeyProtectionMode>))]
public enum V1Alpha1KeyProtectionMode
{
    Plaintext,
    HsmSealed,
    Shamir,
}

[Description("The PKCS#11 token holding a Vault's root key.")]
public sealed class V1Alpha1SealingHsm
{
    [JsonPropertyName("library")]
    [Length(1, 4096)]
    [Description("Absolute path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so, in the proxy image and the operator's pod.")]
    public string? Library { get; set; }

    [JsonPropertyName("tokenLabel")]
    [Length(1, 32)]
    [Description("Label of the token holding the root key. Set exactly one of tokenLabel and slot.")]
    public string? TokenLabel { get; set; }

    [JsonPropertyName("slot")]
    [Range(0, uint.MaxValue)]
    [Description("Slot ID of the token, when it is not found by tokenLabel. Set exactly one of tokenLabel and slot.")]
    public long? Slot { get; set; }

    [JsonPropertyName("pinSecretRef")]
    [Description("Secret holding the token's user PIN. Mounted into the proxy pods at /var/run/xks/pkcs11-pin/pin; read by the operator to seal key versions. Never logged.")]
    public V1Alpha1SecretKeyReference? PinSecretRef { get; set; }

    [JsonPropertyName("additionalTokens")]
    [Length(0, 9)]
    [Description("More tokens holding the same root key (HSMs of one cluster), in order of preference after the first. At most 9.")]
    public IList<V1Alpha1Pkcs11Token>? AdditionalTokens { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1KeyBackendType>))]
public enum V1Alpha1KeyBackendType
{
    Software,
    Pkcs11,
}

[Description("Settings of the PKCS#11 backend.")]
public sealed class V1Alpha1Pkcs11Backend
{
    [JsonPropertyName("library")]
    [Length(1, 4096)]
    [Description("Absolute path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. The proxy image and the operator's pod must both have it at this path: the operator generates key versions in the HSM through it.")]
    public string? Library { get; set; }

    [JsonPropertyName("tokenLabel")]
    [Length(1, 32)]
    [Description("Label of the token holding the keys. Set exactly one of tokenLabel and slot.")]
    public string? TokenLabel { get; set; }

    [JsonPropertyName("slot")]
    [Range(0, uint.MaxValue)]
    [Description("Slot ID of the token, when it is not found by tokenLabel. Set exactly one of tokenLabel and slot.")]
    public long? Slot { get; set; }

    [JsonPropertyName("pinSecretRef")]
    [Description("Secret holding the user PIN of the token (every token of the Vault uses it). Mounted into the proxy pods at /var/run/xks/pkcs11-pin/pin; read by the operator to generate key versions. Never logged.")]
    public V1Alpha1SecretKeyReference? PinSecretRef { get; set; }

    [JsonPropertyName("additionalTokens")]
    [Length(0, 9)]
    [Description("More tokens holding the same keys (one per HSM of a cluster that replicates them), in order of preference after the first. The proxy sends crypto to a healthy token and fails over when one errors; health reports each. At most 9.")]
    public IList<V1Alpha1Pkcs11Token>? AdditionalTokens { get; set; }

    [JsonPropertyName("ivGeneration")]
    [DefaultValue(V1Alpha1Pkcs11IvGeneration.Proxy)]
    [Description("Who makes the AES-GCM IV of an Encrypt. Proxy (default; SoftHSM2): the proxy draws 12 random bytes with C_GenerateRandom. HsmWritesIv (AWS CloudHSM, nShield): the HSM writes the IV into the parameter. HsmAppendsIv (Luna): the HSM appends the IV after the tag.")]
    public V1Alpha1Pkcs11IvGeneration IvGeneration { get; set; } = V1Alpha1Pkcs11IvGeneration.Proxy;

    [JsonPropertyName("sessionPool")]
    [DefaultValue("{}")]
    [Description("Logged-in sessions each proxy pod keeps per token.")]
    public V1Alpha1Pkcs11SessionPool SessionPool { get; set; } = new();
}

[Description("One more token holding the same keys.")]
public sealed class V1Alpha1Pkcs11Token
{
    [JsonPropertyName("tokenLabel")]
    [Length(1, 32)]
    [Description("Label of the token. Set exactly one of tokenLabel and slot.")]
    public string? TokenLabel { get; set; }

    [JsonPropertyName("slot")]
    [Range(0, uint.MaxValue)]
    [Description("Slot ID of the token. Set exactly one of tokenLabel and slot.")]
    public long? Slot { get; set; }

    [JsonPropertyName("library")]
    [Length(1, 4096)]
    [Description("Absolute path of the PKCS#11 module of this token, when it is not keyBackend.pkcs11.library (another HSM's client).")]
    public string? Library { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1Pkcs11IvGeneration>))]
public enum V1Alpha1Pkcs11IvGeneration
{
    Proxy,
    HsmWritesIv,
    HsmAppendsIv,
}

[Description("Logged-in sessions per token in each proxy pod.")]
public sealed class V1Alpha1Pkcs11SessionPool
{
    /// <summary>Default of <see cref="WaitTimeout"/>.</summary>
    public const string DefaultWaitTimeout = "100ms";

    [JsonPropertyName("maxSessions")]
    [Range(1, 1024)]
    [DefaultValue(8)]
    [Description("Most sessions a proxy pod opens per token, between 1 and 1024. Default 8.")]
    public int MaxSessions { get; set; } = 8;

    [JsonPropertyName("waitTimeout")]
    [Pattern(Patterns.Duration)]
    [DefaultValue(DefaultWaitTimeout)]
    [Description("How long a request waits for a free session before the proxy answers DependencyTimeoutException (503), as a Go duration of at most 10s. Default 100ms.")]
    public string WaitTimeout { get; set; } = DefaultWaitTimeout;
}

[Description("A key of a Secret in the same namespace.")]
public sealed class V1Alpha1SecretKeyReference
{
    [JsonPropertyName("name")]
    [Required]
    [Length(1, 253)]
    [Description("Name of the Secret, in the same namespace.")]
    public string Name { get; set; } = "";

    [JsonPropertyName("key")]
    [DefaultValue("pin")]
    [Description("Key in the Secret's data. Default pin.")]
    public string Key { get; set; } = "pin";
}

[Description("Settings of the proxy pods.")]
public sealed class V1Alpha1VaultProxy
{
    /// <summary>The image the operator uses when <see cref="Image"/> is not set (its --proxy-image default).</summary>
    public const string DefaultImage = "ghcr.io/xks-operator/xks-proxy:0.1.0";

    /// <summary>The default of <see cref="MinReadySeconds"/>.</summary>
    public const int DefaultMinReadySeconds = 10;

    [JsonPropertyName("image")]
    [Description("Container image of the proxy. Default: the operator's --proxy-image (ghcr.io/xks-operator/xks-proxy:0.1.0 unless changed), so upgrading the operator upgrades proxies that do not pin an image.")]
    public string? Image { get; set; }

    [JsonPropertyName("imagePullPolicy")]
    [Description("Pull policy of the image: Always, IfNotPresent or Never. Default: Kubernetes' (Always for :latest, otherwise IfNotPresent).")]
    public V1Alpha1ImagePullPolicy? ImagePullPolicy { get; set; }

    [JsonPropertyName("resources")]
    [PreserveUnknownFields]
    [Description("CPU and memory requests and limits of the proxy container (core/v1 ResourceRequirements).")]
    public V1ResourceRequirements? Resources { get; set; }

    [JsonPropertyName("nodeSelector")]
    [Description("Node labels the proxy pods must run on.")]
    public IDictionary<string, string>? NodeSelector { get; set; }

    [JsonPropertyName("tolerations")]
    [PreserveUnknownFields]
    [Description("Tolerations of the proxy pods (core/v1 Toleration).")]
    public IList<V1Toleration>? Tolerations { get; set; }

    [JsonPropertyName("affinity")]
    [PreserveUnknownFields]
    [Description("Affinity of the proxy pods (core/v1 Affinity). The operator always spreads pods across nodes and zones.")]
    public V1Affinity? Affinity { get; set; }

    [JsonPropertyName("podAnnotations")]
    [Description("Extra annotations on the proxy pods.")]
    public IDictionary<string, string>? PodAnnotations { get; set; }

    [JsonPropertyName("minReadySeconds")]
    [Range(0, 600)]
    [DefaultValue(DefaultMinReadySeconds)]
    [Description("Seconds a new proxy pod must be Ready before a rollout counts it available and stops an old one (the Deployment's minReadySeconds). Default 10: long enough for kube-proxy, the Service's endpoints and a load balancer health-checking /readyz every second to take the new pod in. An AWS NLB takes longer to register a target: use the AWS Load Balancer Controller's pod readiness gate, or raise this to its registration time.")]
    public int MinReadySeconds { get; set; } = DefaultMinReadySeconds;

    [JsonPropertyName("logLevel")]
    [DefaultValue(V1Alpha1ProxyLogLevel.Information)]
    [Description("Minimum level of the proxy's logs. Default Information. Key material and secrets are never logged.")]
    public V1Alpha1ProxyLogLevel LogLevel { get; set; } = V1Alpha1ProxyLogLevel.Information;
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1ImagePullPolicy>))]
public enum V1Alpha1ImagePullPolicy
{
    Always,
    IfNotPresent,
    Never,
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1ProxyLogLevel>))]
public enum V1Alpha1ProxyLogLevel
{
    Trace,
    Debug,
    Information,
    Warning,
    Error,
}

[Description("Observed state of the Vault.")]
public sealed class V1Alpha1VaultStatus : V1Alpha1Status
{
    [JsonPropertyName("endpoint")]
    [Description("URL to register as the proxy endpoint of the external key store in AWS KMS: https://<hostname>.")]
    public string? Endpoint { get; set; }

    [JsonPropertyName("replicas")]
    [Description("Proxy pods that exist.")]
    public int? Replicas { get; set; }

    [JsonPropertyName("readyReplicas")]
    [Description("Proxy pods that pass their readiness probe.")]
    public int? ReadyReplicas { get; set; }

    [JsonPropertyName("configSecretName")]
    [Description("Secret holding the rendered proxy configuration (<vault>-proxy-config).")]
    public string? ConfigSecretName { get; set; }

    [JsonPropertyName("certificateSecretName")]
    [Description("Secret holding the serving certificate in use.")]
    public string? CertificateSecretName { get; set; }

    [JsonPropertyName("certificate")]
    [Description("The serving certificate the operator checked (spec.tls.secretName without issuerRef): when it expires, who issued it and the DNS names it covers, for alerts. Absent while the Secret cannot be read.")]
    public V1Alpha1VaultCertificateStatus? Certificate { get; set; }
}

[Description("The serving certificate's facts (public, no key material).")]
public sealed class V1Alpha1VaultCertificateStatus
{
    [JsonPropertyName("notAfter")]
    [Description("When the certificate expires (UTC).")]
    public DateTime? NotAfter { get; set; }

    [JsonPropertyName("issuer")]
    [Description("Distinguished name of the certificate's issuer.")]
    public string? Issuer { get; set; }

    [JsonPropertyName("dnsNames")]
    [Description("DNS subject alternative names of the certificate.")]
    public IList<string>? DnsNames { get; set; }
}
