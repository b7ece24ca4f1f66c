using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// Everything the operator puts into one Vault's proxy config (the <c>proxy.yaml</c> of the config Secret), before
/// rendering. Built from the Vault by <see cref="ProxyConfigModel.ForVault"/>; the KeySet and CloudKey reconcilers
/// pass the key stores. Lists that are sets (regions, key stores, keys, credentials, authorization values)
/// are sorted by the renderer, so the order of an informer's cache never changes the rendered bytes.
/// </summary>
public sealed record ProxyConfigModel
{
    /// <summary>Origin shown in the header comment of the rendered file, e.g. "Vault team-a/payments".</summary>
    public required string Source { get; init; }

    /// <summary>True when the proxy serves TLS with the mounted certificate (exposure LoadBalancer, or backend TLS).</summary>
    public required bool ServeTls { get; init; }

    /// <summary>Replicas serving the endpoint, reported by the health call as xksProxyFleetSize.</summary>
    public required int FleetSize { get; init; }

    /// <summary>SigV4 regions accepted; empty accepts any region.</summary>
    public IReadOnlyList<string> Regions { get; init; } = [];

    /// <summary>Key stores (one per KeySet); empty for a Vault without KeySets, which the proxy accepts in cluster mode.</summary>
    public IReadOnlyList<ProxyKeyStoreModel> KeyStores { get; init; } = [];

    /// <summary>The key backend (startup section): software by default, or the Vault's PKCS#11 settings.</summary>
    public ProxyBackendModel Backend { get; init; } = ProxyBackendModel.Software;

    /// <summary>
    /// Mutual TLS (only with <see cref="ServeTls"/>): the subject names a client certificate must carry, checked against
    /// the CA mounted at <see cref="ProxyLayout.ClientCaFile"/>. Empty: no client certificate is asked for.
    /// </summary>
    public IReadOnlyList<string> ClientCertificateSubjects { get; init; } = [];

    /// <summary>Port of the XKS API inside the pod.</summary>
    public int Port => ProxyLayout.XksPort(ServeTls);

    /// <summary>
    /// The Vault's spec.tls.clientCertificate when it applies: the proxy terminates TLS (an Ingress never passes the
    /// client certificate on, and the validator refuses the combination).
    /// </summary>
    public static V1Alpha1VaultClientCertificate? ClientCertificateOf(V1Alpha1Vault vault) =>
        ProxyTerminatesTls(vault) ? vault.Spec.Tls?.ClientCertificate : null;

    /// <summary>
    /// True when the proxy serves HTTPS on its XKS port: it terminates the public TLS (exposure LoadBalancer), or it
    /// serves the backend certificate to the Ingress (exposure Ingress with spec.tls.backendIssuerRef).
    /// </summary>
    public static bool ProxyServesTls(V1Alpha1Vault vault) => ProxyTerminatesTls(vault) || BackendTls(vault);

    /// <summary>Exposure Ingress with spec.tls.backendIssuerRef: the Ingress speaks HTTPS to the proxy and verifies it.</summary>
    public static bool BackendTls(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return !ProxyTerminatesTls(vault) && vault.Spec.Tls?.BackendIssuerRef is not null;
    }

    /// <summary>True when the Vault is exposed through a LoadBalancer Service, so the proxy itself terminates TLS.</summary>
    public static bool ProxyTerminatesTls(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return vault.Spec.Exposure?.Type == V1Alpha1ExposureType.LoadBalancer;
    }

    /// <summary>The model of a Vault's config: server and backend from the spec, key stores from the caller.</summary>
    public static ProxyConfigModel ForVault(
        V1Alpha1Vault vault,
        IReadOnlyList<ProxyKeyStoreModel>? keyStores = null,
        IReadOnlyList<string>? regions = null)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return new ProxyConfigModel
        {
            Source = $"Vault {vault.Metadata.NamespaceProperty}/{vault.Metadata.Name}",
            ServeTls = ProxyServesTls(vault),
            FleetSize = vault.Spec.Replicas,
            Regions = regions ?? [],
            KeyStores = keyStores ?? [],
            Backend = ProxyBackendModel.ForVault(vault),
            ClientCertificateSubjects = ClientCertificateOf(vault) is { } mtls ? [.. mtls.AllowedSubjects] : [],
        };
    }
}

/// <summary>
/// The backend section of a proxy config. <see cref="Pkcs11"/> set: the PKCS#11 backend, its PIN read from the mounted
/// PIN Secret. Otherwise the software backend: with <see cref="Sealing"/> (keyProtection HsmSealed) its versions are
/// wrapped by a root key in a token and no master key exists; without, the master key and data directory at the pod's
/// mount paths.
/// </summary>
public sealed record ProxyBackendModel(ProxyPkcs11Model? Pkcs11, ProxySealingModel? Sealing = null, ProxyShamirModel? Shamir = null)
{
    public static readonly ProxyBackendModel Software = new((ProxyPkcs11Model?)null);

    public bool IsPkcs11 => Pkcs11 is not null;

    /// <summary>The software backend with keyProtection HsmSealed: no master key, versions sealed by the HSM's root key.</summary>
    public bool IsHsmSealed => Pkcs11 is null && Sealing is not null;

    /// <summary>The software backend with keyProtection Shamir: no master key, roots sealed under the custodians' unseal key.</summary>
    public bool IsShamir => Pkcs11 is null && Sealing is null && Shamir is not null;

    /// <summary>Neither plaintext nor PKCS#11: the Vault has no master-key Secret.</summary>
    public bool HasMasterKey => !IsPkcs11 && !IsHsmSealed && !IsShamir;

    /// <summary>The name recorded in key-material Secrets: "software", "hsm-sealed", "shamir" or "pkcs11".</summary>
    public string Name => IsPkcs11 ? KeyMaterialSecret.Pkcs11Backend
        : IsHsmSealed ? KeyMaterialSecret.HsmSealedBackend
        : IsShamir ? KeyMaterialSecret.ShamirBackend
        : KeyMaterialSecret.SoftwareBackend;

    public static ProxyBackendModel ForVault(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        if (vault.Spec.KeyBackend?.Type != V1Alpha1KeyBackendType.Pkcs11 || vault.Spec.KeyBackend.Pkcs11 is not { } pkcs11)
        {
            return vault.Spec.KeyBackend?.Type == V1Alpha1KeyBackendType.Pkcs11 ? Software : vault.Spec.KeyProtection switch
            {
                { Mode: V1Alpha1KeyProtectionMode.HsmSealed, Hsm: { } hsm } =>
                    new ProxyBackendModel(null, new ProxySealingModel(hsm.Library ?? "", Tokens(hsm.TokenLabel, hsm.Slot, hsm.Library, hsm.AdditionalTokens), VaultNames.RootKeyLabelPrefix(vault))),
                { Mode: V1Alpha1KeyProtectionMode.Shamir } => new ProxyBackendModel(null, null, new ProxyShamirModel(VaultNames.ShamirVaultId(vault))),
                _ => Software,
            };
        }

        var pool = pkcs11.SessionPool ?? new V1Alpha1Pkcs11SessionPool();
        var wait = GoDuration.TryParse(pool.WaitTimeout, out var parsed) ? parsed : TimeSpan.FromMilliseconds(100);
        return new ProxyBackendModel(new ProxyPkcs11Model(
            pkcs11.Library ?? "",
            Tokens(pkcs11.TokenLabel, pkcs11.Slot, pkcs11.Library, pkcs11.AdditionalTokens),
            pkcs11.IvGeneration,
            pool.MaxSessions,
            (int)Math.Ceiling(wait.TotalMilliseconds)));
    }

    private static List<ProxyPkcs11TokenModel> Tokens(string? label, long? slot, string? library, IList<V1Alpha1Pkcs11Token>? additional)
    {
        var tokens = new List<ProxyPkcs11TokenModel> { new(label, slot, null) };
        tokens.AddRange((additional ?? []).Where(t => t is not null).Select(t => new ProxyPkcs11TokenModel(t.TokenLabel, t.Slot, t.Library == library ? null : t.Library)));
        return tokens;
    }
}

/// <summary>
/// The HSM holding a HsmSealed Vault's root key: module path, tokens in order of preference, and the label prefix of the
/// root-key objects (<see cref="VaultNames.RootKeyLabelPrefix"/>).
/// </summary>
public sealed record ProxySealingModel(string Library, IReadOnlyList<ProxyPkcs11TokenModel> Tokens, string RootLabelPrefix);

/// <summary>
/// A Shamir Vault's roots: its vault id (<c>namespace_name</c>, as the custodians' shares name it) and, once the
/// custodians made it, the keyring document from the Secret <c>&lt;vault&gt;-keyring</c> (sealed roots only; the Vault
/// reconciler adds it). The proxy serves its unseal API on <see cref="ProxyLayout.AdminPort"/>, on 127.0.0.1 only.
/// </summary>
public sealed record ProxyShamirModel(string VaultId, string? KeyringJson = null)
{
    public override string ToString() => $"ProxyShamirModel {{ VaultId = {VaultId}, Keyring = {(KeyringJson is null ? "(none yet)" : "(sealed roots)")} }}";
}

/// <summary>The PKCS#11 backend: module path, tokens in order of preference, IV mode and session pool.</summary>
public sealed record ProxyPkcs11Model(
    string Library,
    IReadOnlyList<ProxyPkcs11TokenModel> Tokens,
    V1Alpha1Pkcs11IvGeneration IvGeneration,
    int MaxSessions,
    int WaitTimeoutMilliseconds);

/// <summary>One token: by label or by slot ID; <paramref name="Library"/> only when it differs from the backend's.</summary>
public sealed record ProxyPkcs11TokenModel(string? Label, long? Slot, string? Library)
{
    /// <summary>"token 'xks'" or "slot 3", for messages.</summary>
    public override string ToString() => Label is not null ? $"token '{Label}'" : $"slot {Slot}";
}

/// <summary>One proxy key store: what a KeySet becomes in the proxy config.</summary>
/// <param name="Name">1–63 characters of a-z 0-9 '-' (the proxy's rule), used in logs, metrics and audit lines.</param>
/// <param name="UriPathPrefix">Served at &lt;prefix&gt;/kms/xks/v1; empty or '/'-separated segments.</param>
/// <param name="Credentials">SigV4 credentials; two while rotating.</param>
/// <param name="Keys">The CloudKeys of the KeySet.</param>
/// <param name="Blocked">Kill switch for the whole key store.</param>
public sealed record ProxyKeyStoreModel(
    string Name,
    string UriPathPrefix,
    IReadOnlyList<ProxyCredentialModel> Credentials,
    IReadOnlyList<ProxyKeyModel> Keys,
    bool Blocked = false);

/// <summary>One SigV4 credential. <see cref="ToString"/> never shows the secret.</summary>
public sealed record ProxyCredentialModel(string AccessKeyId, string SecretAccessKey)
{
    public override string ToString() => $"ProxyCredentialModel {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = *** }}";
}

/// <summary>One external key as the proxy serves it.</summary>
/// <param name="Id">externalKeyId (the CloudKey's xksKeyId): 1–128 characters of A-Z a-z 0-9 . _ -</param>
/// <param name="Usage">"ENCRYPT" and/or "DECRYPT"; empty makes a key that can do neither.</param>
/// <param name="Enabled">False answers keyStatus DISABLED / InvalidStateException at once.</param>
/// <param name="Authorization">Optional proxy-side authorization on top of the KMS key policy.</param>
public sealed record ProxyKeyModel(
    string Id,
    IReadOnlyList<string> Usage,
    bool Enabled = true,
    ProxyKeyAuthorizationModel? Authorization = null)
{
    /// <summary>
    /// The key's versions, wrapped by the Vault's master key (from the CloudKey's key-material Secret), rendered inline
    /// so the proxy needs no key file. Empty: none rendered. The highest version encrypts; every version decrypts.
    /// </summary>
    public IReadOnlyList<ProxyKeyVersionModel> Versions { get; init; } = [];
}

/// <summary>
/// One key version. Software backend: 32 random bytes wrapped with AES-256-GCM under the master key (see
/// <see cref="KeyMaterial"/>). PKCS#11 backend: no material at all — the version is an object labelled
/// <c>&lt;keyId&gt;/v&lt;version&gt;</c> inside the HSM. <see cref="ToString"/> never shows the wrapped material.
/// </summary>
/// <param name="Version">1 or more, unique within the key.</param>
/// <param name="WrappedMaterial">Software: Base64 of iv(12) || wrapped key(32) || tag(16), AAD <c>xks-proxy:key:{keyId}:v{version}</c>. PKCS#11: null.</param>
/// <param name="CreatedAt">When the version was generated.</param>
public sealed record ProxyKeyVersionModel(int Version, string? WrappedMaterial, DateTimeOffset CreatedAt)
{
    /// <summary>A version that lives in the HSM (PKCS#11 backend): a number and a time, no material.</summary>
    public static ProxyKeyVersionModel InHsm(int version, DateTimeOffset createdAt) => new(version, null, createdAt);

    public override string ToString() => $"ProxyKeyVersionModel {{ Version = {Version}, WrappedMaterial = {(WrappedMaterial is null ? "(in the HSM)" : "***")}, CreatedAt = {CreatedAt:O} }}";
}

/// <summary>Proxy-side authorization of one key; every non-empty list must match, an empty list allows all.</summary>
public sealed record ProxyKeyAuthorizationModel(
    IReadOnlyList<string> Principals,
    IReadOnlyList<string> ViaServices,
    IReadOnlyList<string> SourceVpcs,
    IReadOnlyList<string> SourceVpces);
