using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;

namespace Xks.Contracts.ProxyConfig;

// The YAML document a proxy replica serves (standalone file, or what the operator renders into a Secret): the one
// definition both sides use. Plain input types bound by YamlDotNet (camelCase keys, ProxyConfigYaml); the property
// order is the order in a rendered file. ProxyOptionsValidator checks them; the proxy turns them into its immutable
// runtime snapshot, the operator builds them from its resources.

public sealed class ProxyOptions
{
    public ServerOptions Server { get; set; } = new();

    /// <summary>SigV4 regions accepted in the credential scope. Empty: any region.</summary>
    public List<string> Regions { get; set; } = [];

    public LimitsOptions Limits { get; set; } = new();

    public HealthOptions Health { get; set; } = new();

    public AuditOptions Audit { get; set; } = new();

    public List<KeyStoreOptions> KeyStores { get; set; } = [];

    public BackendOptions Backend { get; set; } = new();
}

public sealed class ServerOptions
{
    /// <summary>IP address to bind (default 127.0.0.1; 0.0.0.0 in a pod).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Port of the XKS API (and of /ping, /healthz, /readyz).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Port of the Prometheus endpoint /metrics (plain HTTP); 0 turns it off.</summary>
    public int MetricsPort { get; set; } = 9090;

    /// <summary>TLS from PEM files; absent means plain HTTP (local use only: AWS KMS only calls HTTPS).</summary>
    public TlsOptions? Tls { get; set; }

    /// <summary>Seconds between checks of the config, key and certificate files for changes.</summary>
    public double ReloadIntervalSeconds { get; set; } = 1;

    /// <summary>Most connections a replica holds open at once (beyond them Kestrel refuses new ones); absent: <see cref="DefaultMaxConnections"/>.</summary>
    public int? MaxConnections { get; set; }

    public const int DefaultMaxConnections = 4096;
}

public sealed class TlsOptions
{
    public string CertificateFile { get; set; } = "";

    public string PrivateKeyFile { get; set; } = "";

    /// <summary>Optional mutual TLS: only clients chained to this CA with one of the allowed subjects complete the handshake.</summary>
    public ClientCertificateOptions? ClientCertificate { get; set; }
}

public sealed class ClientCertificateOptions
{
    public string CaFile { get; set; } = "";

    /// <summary>Accepted subject names, matched against the certificate's common name and DNS SANs (e.g. cks.kms.us-east-1.amazonaws.com).</summary>
    public List<string> AllowedSubjects { get; set; } = [];
}

public sealed class LimitsOptions
{
    /// <summary>Largest plaintext (Encrypt) or ciphertext (Decrypt) accepted, in bytes; at least the spec's 4300.</summary>
    public int MaxPlaintextBytes { get; set; } = 6144;

    /// <summary>Largest additional authenticated data accepted, in bytes; from the spec's 8192 up to 65535.</summary>
    public int MaxAadBytes { get; set; } = 12288;

    /// <summary>Requests per second allowed per key store (path prefix) before ThrottlingException; 0 means unlimited.</summary>
    public int RequestsPerSecondPerKeyStore { get; set; }
}

public sealed class HealthOptions
{
    /// <summary>Number of proxy replicas serving this endpoint (reported as xksProxyFleetSize).</summary>
    public int FleetSize { get; set; } = 1;

    /// <summary>How long a deep health result is reused, in seconds (1–60; the spec allows at most one minute).</summary>
    public int CacheSeconds { get; set; } = 15;
}

public sealed class AuditOptions
{
    /// <summary>Write one JSON line per XKS request.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>File to append audit lines to; empty writes them to standard output.</summary>
    public string? File { get; set; }
}

public sealed class KeyStoreOptions
{
    /// <summary>Name used in logs, metrics and audit lines (e.g. the KeySet name).</summary>
    public string Name { get; set; } = "";

    /// <summary>Path prefix: requests are served at &lt;prefix&gt;/kms/xks/v1/... Empty for none.</summary>
    public string UriPathPrefix { get; set; } = "";

    /// <summary>SigV4 credentials accepted for this prefix; two or more while rotating.</summary>
    public List<CredentialOptions> Credentials { get; set; } = [];

    /// <summary>Kill switch: refuse every request but health with InvalidStateException.</summary>
    public bool Blocked { get; set; }

    public List<KeyOptions> Keys { get; set; } = [];
}

public sealed class CredentialOptions
{
    public string AccessKeyId { get; set; } = "";

    public string? SecretAccessKey { get; set; }

    /// <summary>Alternative to <see cref="SecretAccessKey"/>: a file holding the secret.</summary>
    public string? SecretAccessKeyFile { get; set; }

    public override string ToString() => $"CredentialOptions {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***, SecretAccessKeyFile = {SecretAccessKeyFile} }}";
}

public sealed class KeyOptions
{
    /// <summary>The externalKeyId: at most 128 characters of A-Z a-z 0-9 . _ -</summary>
    public string Id { get; set; } = "";

    /// <summary>ENCRYPT and/or DECRYPT; an empty list makes a key that can do neither.</summary>
    public List<string> Usage { get; set; } = ["ENCRYPT", "DECRYPT"];

    public bool Enabled { get; set; } = true;

    public AuthorizationOptions? Authorization { get; set; }

    /// <summary>
    /// The key's material inline, wrapped by the master key (what the operator renders from the CloudKey's key-material
    /// Secret). Empty: the software backend keeps the key in its data directory (keys/&lt;id&gt;.json). The highest
    /// version encrypts; every version decrypts.
    /// </summary>
    public List<KeyVersionOptions> Versions { get; set; } = [];
}

/// <summary>
/// One key version. Software backend: AES-256-GCM-wrapped material, bound to the key id and version number. PKCS#11
/// backend: the version number only (the material is the token's object <c>&lt;id&gt;/v&lt;version&gt;</c>).
/// </summary>
public sealed class KeyVersionOptions
{
    /// <summary>1 or more, unique within the key.</summary>
    public int Version { get; set; }

    /// <summary>
    /// Software backend: <see cref="WrappedKey"/> (Base64 of a format-1 or format-2 blob) wrapped by the master key,
    /// or, with <c>backend.software.sealing</c>, <see cref="SealedKey"/> (Base64 of 42 bytes, format 3) sealed by the
    /// HSM's root key, or, with <c>backend.software.shamir</c>, <see cref="DerivedKey"/> (Base64 of 34 bytes, format 4)
    /// derived from a Shamir root key. Not secret without the master key or the HSM, and never logged. PKCS#11 backend: null.
    /// </summary>
    public string? WrappedMaterial { get; set; }

    public DateTimeOffset? CreatedAt { get; set; }

    public override string ToString() => $"KeyVersionOptions {{ Version = {Version}, CreatedAt = {CreatedAt:O} }}";
}

/// <summary>
/// Secondary authorization on top of the KMS key policy. Every non-empty list must match; an empty list allows all.
/// </summary>
public sealed class AuthorizationOptions
{
    /// <summary>awsPrincipalArn patterns; '*' matches any run of characters.</summary>
    public List<string> Principals { get; set; } = [];

    /// <summary>kmsViaService values (Encrypt and Decrypt only; GetKeyMetadata carries none).</summary>
    public List<string> ViaServices { get; set; } = [];

    public List<string> SourceVpcs { get; set; } = [];

    public List<string> SourceVpces { get; set; } = [];
}

/// <summary>Exactly one key backend: software (wrapped keys on disk) or pkcs11 (keys inside an HSM).</summary>
public sealed class BackendOptions
{
    public SoftwareBackendOptions? Software { get; set; }

    public Pkcs11BackendOptions? Pkcs11 { get; set; }
}

/// <summary>
/// Keys inside one or more PKCS#11 tokens (HSMs holding the same keys, in order of preference): one AES-256 object
/// per key version, labelled <c>&lt;keyId&gt;/v&lt;n&gt;</c>; encrypt and decrypt run in the token.
/// </summary>
public sealed class Pkcs11BackendOptions
{
    /// <summary>The PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). Part of the image: never re-rooted by --volume-root.</summary>
    public string Library { get; set; } = "";

    /// <summary>1 to 10 tokens holding the same keys, in order of preference.</summary>
    public List<Pkcs11TokenOptions> Tokens { get; set; } = [];

    /// <summary>The CKU_USER PIN inline (local use). Exactly one of pin, pinFile and pinEnvironmentVariable.</summary>
    public string? Pin { get; set; }

    /// <summary>A file holding the PIN (a mounted Secret); one trailing newline is ignored.</summary>
    public string? PinFile { get; set; }

    /// <summary>An environment variable holding the PIN.</summary>
    public string? PinEnvironmentVariable { get; set; }

    /// <summary>
    /// Who makes the GCM IV: <c>Proxy</c> (C_GenerateRandom, passed in: SoftHSM2), <c>HsmWritesIv</c> (a zero IV
    /// buffer the HSM overwrites: CloudHSM, nShield) or <c>HsmAppendsIv</c> (no IV in, the HSM appends it to the
    /// output: Luna).
    /// </summary>
    public string IvGeneration { get; set; } = "Proxy";

    public Pkcs11SessionPoolOptions SessionPool { get; set; } = new();

    /// <summary>Label of the AES-256 key used by the deep health check, one per token (created when missing).</summary>
    public string HealthKeyLabel { get; set; } = "xks-proxy-health";

    /// <summary>Standalone convenience: generate version 1 of configured keys the token does not have.</summary>
    public bool CreateMissingKeys { get; set; }

    /// <summary>Seconds between attempts to bring an unavailable token back (module re-initialised, health key re-checked).</summary>
    public int RecoveryIntervalSeconds { get; set; } = 5;

    public override string ToString() => $"Pkcs11BackendOptions {{ Library = {Library}, Tokens = {Tokens.Count} }}";
}

/// <summary>One token: exactly one of label, slot and serial; optionally its own module.</summary>
public sealed class Pkcs11TokenOptions
{
    public string? Label { get; set; }

    public ulong? Slot { get; set; }

    public string? Serial { get; set; }

    /// <summary>This token's own PKCS#11 module (another HSM's client); default backend.pkcs11.library.</summary>
    public string? Library { get; set; }
}

public sealed class Pkcs11SessionPoolOptions
{
    /// <summary>Logged-in sessions per token, 1 to 1024.</summary>
    public int MaxSessions { get; set; } = 8;

    /// <summary>How long a request waits for a free session (0 to 10000 ms) before DependencyTimeoutException.</summary>
    public int WaitTimeoutMilliseconds { get; set; } = 100;
}

public sealed class SoftwareBackendOptions
{
    /// <summary>Directory of the master key and the wrapped key versions (created 0700, files 0600).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>
    /// Read-only file holding the 32-byte master key (e.g. a mounted Secret, /var/run/xks/master-key/master.key);
    /// never written or created. Empty: DATADIR/master.key, created on first start — unless <see cref="Sealing"/> is
    /// set, when empty means no master key at all (only versions sealed by the HSM serve).
    /// </summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>
    /// Generate material for configured keys that have none yet (standalone mode). False: never create a key file,
    /// not even the health key (it then lives in memory); keys without material answer KeyNotFoundException.
    /// </summary>
    public bool CreateMissingKeys { get; set; } = true;

    /// <summary>
    /// The <c>HsmSealed</c> key protection: key versions in wrap format 3 (<see cref="SealedKey"/>) are unsealed by a
    /// root key inside a PKCS#11 token when a configuration is applied (never on the request path). Requires
    /// <see cref="CreateMissingKeys"/> false: the operator provides every version. Null: no HSM is used.
    /// </summary>
    public SoftwareSealingOptions? Sealing { get; set; }

    /// <summary>
    /// The <c>Shamir</c> key protection: the Vault's root keys come sealed in a keyring under an unseal key that only
    /// k custodians' shares reconstruct. The proxy starts <em>sealed</em> and serves once the shares were given through
    /// its unseal API (<see cref="SoftwareShamirOptions.AdminPort"/>); versions in wrap format 4 (<see cref="DerivedKey"/>)
    /// are derived, and versions in format 1 or 2 unwrapped, under those roots. Requires
    /// <see cref="CreateMissingKeys"/> false and excludes <see cref="MasterKeyFile"/> and <see cref="Sealing"/>. Null:
    /// not in Shamir mode.
    /// </summary>
    public SoftwareShamirOptions? Shamir { get; set; }
}

/// <summary>backend.software.shamir: the Vault's keyring and the port of the unseal API.</summary>
public sealed class SoftwareShamirOptions
{
    /// <summary>The unseal API's port when none is configured.</summary>
    public const int DefaultAdminPort = 9444;

    /// <summary>
    /// The keyring (<see cref="ShamirKeyring"/>'s document): the Vault's root keys sealed under the unseal key, with the
    /// key-check values that tell a wrong set of shares from the right one. Not secret. A reload that brings a new root
    /// opens it with the unseal key the proxy holds once unsealed; a keyring of another unseal key seals the proxy.
    /// </summary>
    public ShamirKeyringDocument? Keyring { get; set; }

    /// <summary>
    /// Port of the unseal API (<c>POST /admin/v1/unseal</c>, <c>GET /admin/v1/seal-status</c>), plain HTTP on
    /// 127.0.0.1 only: it is reached through <c>kubectl port-forward</c>, so RBAC on <c>pods/portforward</c> decides who
    /// may unseal. Must differ from server.port and server.metricsPort.
    /// </summary>
    public int AdminPort { get; set; } = DefaultAdminPort;

    public override string ToString() =>
        $"SoftwareShamirOptions {{ VaultId = {Keyring?.VaultId}, Roots = {Keyring?.Roots?.Count ?? 0}, AdminPort = {AdminPort} }}";
}

/// <summary>
/// Where the software backend unseals format-3 key versions: the root keys <c>{rootLabelPrefix}/r{n}</c> in one or
/// more PKCS#11 tokens holding the same roots (in order of preference), logged in as CKU_USER.
/// </summary>
public sealed class SoftwareSealingOptions
{
    /// <summary>The root keys' label prefix (the Vault's): root version n is the token object <c>{prefix}/r{n}</c>.</summary>
    public string RootLabelPrefix { get; set; } = "";

    /// <summary>The PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). Part of the image: never re-rooted by --volume-root.</summary>
    public string Library { get; set; } = "";

    /// <summary>1 to 10 tokens holding the same root keys, in order of preference (the first that answers unseals).</summary>
    public List<Pkcs11TokenOptions> Tokens { get; set; } = [];

    /// <summary>The CKU_USER PIN inline (local use). Exactly one of pin, pinFile and pinEnvironmentVariable.</summary>
    public string? Pin { get; set; }

    /// <summary>A file holding the PIN (a mounted Secret); one trailing newline is ignored. Read at each login.</summary>
    public string? PinFile { get; set; }

    /// <summary>An environment variable holding the PIN.</summary>
    public string? PinEnvironmentVariable { get; set; }

    public override string ToString() => $"SoftwareSealingOptions {{ RootLabelPrefix = {RootLabelPrefix}, Library = {Library}, Tokens = {Tokens.Count} }}";
}

/// <summary>Who makes the AES-GCM IV (XKS-SPEC §10.1: HSMs differ).</summary>
public enum Pkcs11IvGeneration
{
    /// <summary>The proxy draws 12 bytes with C_GenerateRandom and passes them in (SoftHSM2).</summary>
    Proxy,

    /// <summary>A 12-byte zero buffer goes in and the HSM overwrites it with the IV it chose (CloudHSM, nShield).</summary>
    HsmWritesIv,

    /// <summary>No IV goes in; the HSM appends its 12-byte IV after the tag (Luna).</summary>
    HsmAppendsIv,
}
