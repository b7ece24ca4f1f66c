namespace Xks.Operator.Resources;

/// <summary>
/// Fixed facts about the proxy pod that the Deployment, the Services and the rendered proxy config must agree on:
/// ports, mount paths and Secret keys. One place, so the config can never name a file the pod does not mount.
/// </summary>
public static class ProxyLayout
{
    /// <summary>Name of the proxy container in the pod.</summary>
    public const string ContainerName = "proxy";

    /// <summary>XKS port when an Ingress terminates TLS in front of the proxy (plain HTTP inside the cluster).</summary>
    public const int HttpPort = 8080;

    /// <summary>XKS port when the proxy terminates TLS itself (exposure LoadBalancer).</summary>
    public const int HttpsPort = 8443;

    /// <summary>Prometheus /metrics, plain HTTP; never exposed through the Ingress or the LoadBalancer.</summary>
    public const int MetricsPort = 9090;

    /// <summary>Container port name of the XKS API (8080 or 8443); Services target it by name.</summary>
    public const string XksPortName = "xks";

    public const string MetricsPortName = "metrics";

    /// <summary>
    /// A Shamir Vault's unseal API, bound to 127.0.0.1 inside the pod: reached only through <c>kubectl port-forward</c>,
    /// so the RBAC verb pods/portforward decides who may unseal.
    /// </summary>
    public const int AdminPort = 9444;

    /// <summary>Key of the keyring document in a Shamir Vault's keyring Secret.</summary>
    public const string KeyringKey = "keyring.json";

    /// <summary>Key of the rendered config in the config Secret.</summary>
    public const string ConfigKey = "proxy.yaml";

    /// <summary>Key of the 32 raw master-key bytes in the master-key Secret.</summary>
    public const string MasterKeyKey = "master.key";

    /// <summary>Length of the software backend's master key (AES-256).</summary>
    public const int MasterKeyLength = Xks.Contracts.KeyWrap.WrappedKey.KeySize;

    public const string MasterKeyDirectory = "/var/run/xks/master-key";
    public const string MasterKeyFile = MasterKeyDirectory + "/" + MasterKeyKey;

    /// <summary>Key of the PIN inside the mounted PIN Secret volume (the Secret's own key is mapped to this file name).</summary>
    public const string Pkcs11PinKey = "pin";

    /// <summary>Where the PKCS#11 backend's PIN Secret (spec.keyBackend.pkcs11.pinSecretRef) is mounted.</summary>
    public const string Pkcs11PinDirectory = "/var/run/xks/pkcs11-pin";

    /// <summary>The PIN file the rendered config's backend.pkcs11.pinFile names.</summary>
    public const string Pkcs11PinFile = Pkcs11PinDirectory + "/" + Pkcs11PinKey;

    public const string TlsDirectory = "/var/run/xks/tls";
    public const string TlsCertificateFile = TlsDirectory + "/tls.crt";
    public const string TlsPrivateKeyFile = TlsDirectory + "/tls.key";

    /// <summary>Where the client CA bundle of mutual TLS (spec.tls.clientCertificate.caSecretRef) is mounted.</summary>
    public const string ClientCaDirectory = "/var/run/xks/client-ca";

    /// <summary>Key of the CA bundle inside the mounted client-CA volume (the Secret's own key is mapped to it).</summary>
    public const string ClientCaKey = "ca.crt";

    /// <summary>The file the rendered config's server.tls.clientCertificate.caFile names.</summary>
    public const string ClientCaFile = ClientCaDirectory + "/" + ClientCaKey;

    /// <summary>Software backend data directory: an emptyDir (the key material itself lives in Secrets).</summary>
    public const string DataDirectory = "/var/lib/xks";

    public const string TmpDirectory = "/tmp";

    /// <summary>Unauthenticated liveness endpoint of the proxy (on the XKS port).</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>Unauthenticated readiness endpoint of the proxy (on the XKS port).</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>Non-root user and group of the proxy image (distroless "nonroot").</summary>
    public const long RunAsUser = 65532;

    /// <summary>
    /// Seconds a stopping proxy keeps serving with /readyz at 503 (its --drain-seconds): longer than the readiness
    /// probe's failure window and an LB health check's two 1 s intervals, well inside the 30 s grace period.
    /// </summary>
    public const int DrainSeconds = 5;

    public static int XksPort(bool proxyTerminatesTls) => proxyTerminatesTls ? HttpsPort : HttpPort;
}
