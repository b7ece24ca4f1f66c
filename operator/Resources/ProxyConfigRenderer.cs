using System.Security.Cryptography;
using System.Text;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.ProxyConfig;

namespace Xks.Operator.Resources;

/// <summary>
/// Builds the proxy's own config document (<see cref="ProxyOptions"/>, the contract both sides share) from a
/// <see cref="ProxyConfigModel"/>, checks it with the proxy's validator and renders it with the contract's YAML.
/// Deterministic: the same model gives the same bytes, whatever the order of its set-like lists.
/// </summary>
public static class ProxyConfigRenderer
{
    private static readonly string[] UsageOrder = ["ENCRYPT", "DECRYPT"];

    /// <summary>The YAML text of the proxy config (LF line endings, UTF-8 when encoded).</summary>
    public static string Render(ProxyConfigModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ProxyConfigYaml.Render(ToOptions(model), $"Proxy config of {model.Source}, rendered by xks-operator. Edits are overwritten.");
    }

    /// <summary>
    /// Every reason the proxy would refuse this config, from the proxy's own validator in cluster mode, with the files
    /// the config names taken as the pod's mounts. Empty: the proxy serves it.
    /// </summary>
    public static IReadOnlyList<string> Validate(ProxyConfigModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ProxyOptionsValidator.Validate(ToOptions(model), ConfigurationMode.Cluster, ConfigEnvironment.Pod);
    }

    /// <summary>The proxy's config document for <paramref name="model"/>; sets are sorted, so cache order never shows.</summary>
    public static ProxyOptions ToOptions(ProxyConfigModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ProxyOptions
        {
            Server = Server(model),
            Regions = SortedSet(model.Regions),
            Health = new HealthOptions { FleetSize = model.FleetSize },
            KeyStores = [.. model.KeyStores.OrderBy(s => s.Name, StringComparer.Ordinal).Select(KeyStore)],
            Backend = Backend(model.Backend),
        };
    }

    /// <summary>sha256 of the text (UTF-8), lowercase hex, first 16 characters: a short, stable change marker.</summary>
    public static string Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Hash(Encoding.UTF8.GetBytes(text));
    }

    /// <summary><see cref="Hash(string)"/> of text already encoded as UTF-8 (a config Secret's data).</summary>
    public static string Hash(ReadOnlySpan<byte> utf8) => Convert.ToHexStringLower(SHA256.HashData(utf8))[..16];

    /// <summary>Hash of the whole rendered config; the config Secret carries it as <see cref="VaultLabels.ConfigHashAnnotation"/>.</summary>
    public static string ConfigHash(ProxyConfigModel model) => Hash(Render(model));

    /// <summary>
    /// Hash of the sections the proxy reads only at start-up (server address/port/TLS, metrics port, backend). The
    /// proxy applies every other change (key stores, keys, credentials, blocked, fleet size) live from the watched
    /// Secret, so only this hash goes into the pod template (<see cref="VaultLabels.StartupConfigHashAnnotation"/>):
    /// a key being disabled must never roll the pods, a change of port or TLS must.
    /// </summary>
    public static string StartupConfigHash(ProxyConfigModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Hash(ProxyConfigYaml.Render(new ProxyOptions { Server = Server(model), Backend = Backend(model.Backend) }));
    }

    private static ServerOptions Server(ProxyConfigModel model) => new()
    {
        Address = "0.0.0.0",
        Port = model.Port,
        MetricsPort = ProxyLayout.MetricsPort,
        Tls = model.ServeTls
            ? new TlsOptions
            {
                CertificateFile = ProxyLayout.TlsCertificateFile,
                PrivateKeyFile = ProxyLayout.TlsPrivateKeyFile,
                ClientCertificate = model.ClientCertificateSubjects.Count > 0
                    ? new ClientCertificateOptions { CaFile = ProxyLayout.ClientCaFile, AllowedSubjects = SortedSet(model.ClientCertificateSubjects) }
                    : null,
            }
            : null,
    };

    private static BackendOptions Backend(ProxyBackendModel backend) => backend.Pkcs11 is { } pkcs11
        ? new BackendOptions
        {
            Pkcs11 = new Pkcs11BackendOptions
            {
                Library = pkcs11.Library,
                Tokens = [.. pkcs11.Tokens.Select(t => new Pkcs11TokenOptions { Label = t.Label, Slot = t.Label is null ? (ulong?)t.Slot : null, Library = t.Library })],
                PinFile = ProxyLayout.Pkcs11PinFile,
                IvGeneration = pkcs11.IvGeneration.ToString(),
                SessionPool = new Pkcs11SessionPoolOptions { MaxSessions = pkcs11.MaxSessions, WaitTimeoutMilliseconds = pkcs11.WaitTimeoutMilliseconds },
                // The operator generates every key version in the HSM; the proxy never makes keys of its own.
                CreateMissingKeys = false,
            },
        }
        : backend.Sealing is { } sealing
        ? new BackendOptions
        {
            Software = new SoftwareBackendOptions
            {
                // HsmSealed: no master key at all; the proxy unwraps every version through the HSM's root key.
                DataDir = ProxyLayout.DataDirectory,
                CreateMissingKeys = false,
                Sealing = new SoftwareSealingOptions
                {
                    RootLabelPrefix = sealing.RootLabelPrefix,
                    Library = sealing.Library,
                    Tokens = [.. sealing.Tokens.Select(t => new Pkcs11TokenOptions { Label = t.Label, Slot = t.Label is null ? (ulong?)t.Slot : null, Library = t.Library })],
                    PinFile = ProxyLayout.Pkcs11PinFile,
                },
            },
        }
        : backend.Shamir is { } shamir && backend.IsShamir
        ? new BackendOptions
        {
            Software = new SoftwareBackendOptions
            {
                // Shamir: no master key; the sealed keyring travels in the config and the unseal key comes from custodians.
                DataDir = ProxyLayout.DataDirectory,
                CreateMissingKeys = false,
                Shamir = new SoftwareShamirOptions
                {
                    Keyring = shamir.KeyringJson is { } keyring ? ShamirKeyring.Parse(keyring).ToDocument() : null,
                    AdminPort = ProxyLayout.AdminPort,
                },
            },
        }
        : new BackendOptions
        {
            Software = new SoftwareBackendOptions
            {
                MasterKeyFile = ProxyLayout.MasterKeyFile,
                DataDir = ProxyLayout.DataDirectory,
                CreateMissingKeys = false,
            },
        };

    private static KeyStoreOptions KeyStore(ProxyKeyStoreModel store) => new()
    {
        Name = store.Name,
        UriPathPrefix = store.UriPathPrefix,
        Blocked = store.Blocked,
        Credentials =
        [
            .. store.Credentials
                .OrderBy(c => c.AccessKeyId, StringComparer.Ordinal)
                .Select(c => new CredentialOptions { AccessKeyId = c.AccessKeyId, SecretAccessKey = c.SecretAccessKey }),
        ],
        Keys = [.. store.Keys.OrderBy(k => k.Id, StringComparer.Ordinal).Select(Key)],
    };

    private static KeyOptions Key(ProxyKeyModel key) => new()
    {
        Id = key.Id,
        // Canonical order; anything else is passed through so the proxy's validator names it.
        Usage =
        [
            .. key.Usage.Distinct(StringComparer.Ordinal)
                .OrderBy(UsageRank)
                .ThenBy(u => u, StringComparer.Ordinal),
        ],
        Enabled = key.Enabled,
        Versions = [.. key.Versions.OrderBy(v => v.Version).Select(v => new KeyVersionOptions { Version = v.Version, WrappedMaterial = v.WrappedMaterial, CreatedAt = v.CreatedAt })],
        Authorization = key.Authorization is { } auth
            ? new AuthorizationOptions
            {
                Principals = SortedSet(auth.Principals),
                ViaServices = SortedSet(auth.ViaServices),
                SourceVpcs = SortedSet(auth.SourceVpcs),
                SourceVpces = SortedSet(auth.SourceVpces),
            }
            : null,
    };

    private static int UsageRank(string usage) => Array.IndexOf(UsageOrder, usage) is >= 0 and var rank ? rank : UsageOrder.Length;

    private static List<string> SortedSet(IReadOnlyList<string> values) =>
        [.. values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}
