using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Xks.Operator.Resources;

/// <summary>
/// Renders a <see cref="ProxyConfigModel"/> to the proxy's YAML config (the schema of config/proxy/standalone.yaml,
/// checked by the proxy's ProxyOptionsValidator). Deterministic: the same model gives the same bytes, whatever the
/// order of its set-like lists.
/// </summary>
public static class ProxyConfigRenderer
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    private static readonly string[] UsageOrder = ["ENCRYPT", "DECRYPT"];

    /// <summary>The YAML text of the proxy config (LF line endings, UTF-8 when encoded).</summary>
    public static string Render(ProxyConfigModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var document = new ConfigDocument
        {
            Server = RenderServer(model),
            Regions = [.. model.Regions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            Health = new HealthSection { FleetSize = model.FleetSize },
            KeyStores = [.. model.KeyStores.OrderBy(s => s.Name, StringComparer.Ordinal).Select(RenderKeyStore)],
            Backend = RenderBackend(model.Backend),
        };

        var header = $"# Proxy config of {model.Source}, rendered by xks-operator. Edits are overwritten.\n";
        return Normalize(header + Serializer.Serialize(document));
    }

    /// <summary>sha256 of the text (UTF-8), lowercase hex, first 16 characters: a short, stable change marker.</summary>
    public static string Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return Convert.ToHexStringLower(digest)[..16];
    }

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
        var startup = new ConfigDocument { Server = RenderServer(model), Backend = RenderBackend(model.Backend) };
        return Hash(Normalize(Serializer.Serialize(startup)));
    }

    private static ServerSection RenderServer(ProxyConfigModel model) => new()
    {
        Address = "0.0.0.0",
        Port = model.Port,
        MetricsPort = ProxyLayout.MetricsPort,
        Tls = model.ServeTls
            ? new TlsSection { CertificateFile = ProxyLayout.TlsCertificateFile, PrivateKeyFile = ProxyLayout.TlsPrivateKeyFile }
            : null,
    };

    private static BackendSection RenderBackend(ProxyBackendModel backend) => backend.Pkcs11 is { } pkcs11
        ? new BackendSection
        {
            Pkcs11 = new Pkcs11Section
            {
                Library = pkcs11.Library,
                Tokens = [.. pkcs11.Tokens.Select(t => new TokenSection { Label = t.Label, Slot = t.Label is null ? t.Slot : null, Library = t.Library })],
                PinFile = ProxyLayout.Pkcs11PinFile,
                IvGeneration = pkcs11.IvGeneration.ToString(),
                SessionPool = new SessionPoolSection { MaxSessions = pkcs11.MaxSessions, WaitTimeoutMilliseconds = pkcs11.WaitTimeoutMilliseconds },
                // The operator generates every key version in the HSM; the proxy never makes keys of its own.
                CreateMissingKeys = false,
            },
        }
        : new BackendSection
        {
            Software = new SoftwareSection
            {
                MasterKeyFile = ProxyLayout.MasterKeyFile,
                DataDir = ProxyLayout.DataDirectory,
                CreateMissingKeys = false,
            },
        };

    private static KeyStoreSection RenderKeyStore(ProxyKeyStoreModel store) => new()
    {
        Name = store.Name,
        UriPathPrefix = store.UriPathPrefix,
        Blocked = store.Blocked,
        Credentials =
        [
            .. store.Credentials
                .OrderBy(c => c.AccessKeyId, StringComparer.Ordinal)
                .Select(c => new CredentialSection { AccessKeyId = c.AccessKeyId, SecretAccessKey = c.SecretAccessKey }),
        ],
        Keys = [.. store.Keys.OrderBy(k => k.Id, StringComparer.Ordinal).Select(RenderKey)],
    };

    private static KeySection RenderKey(ProxyKeyModel key) => new()
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
        Versions = key.Versions is { Count: > 0 } versions
            ? [.. versions.OrderBy(v => v.Version).Select(v => new VersionSection { Version = v.Version, WrappedMaterial = v.WrappedMaterial, CreatedAt = Timestamp(v.CreatedAt) })]
            : null,
        Authorization = key.Authorization is { } auth
            ? new AuthorizationSection
            {
                Principals = SortedSet(auth.Principals),
                ViaServices = SortedSet(auth.ViaServices),
                SourceVpcs = SortedSet(auth.SourceVpcs),
                SourceVpces = SortedSet(auth.SourceVpces),
            }
            : null,
    };

    /// <summary>RFC 3339 in UTC, seconds (fractions only when present): 2026-11-28T19:00:00Z.</summary>
    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static int UsageRank(string usage) => Array.IndexOf(UsageOrder, usage) is >= 0 and var rank ? rank : UsageOrder.Length;

    private static List<string> SortedSet(IReadOnlyList<string> values) =>
        [.. values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private static string Normalize(string yaml) => yaml.Replace("\r\n", "\n", StringComparison.Ordinal);

    // Serialisation shapes: property order here is the order in the file. Nulls are omitted.
    private sealed class ConfigDocument
    {
        public ServerSection? Server { get; init; }

        public List<string>? Regions { get; init; }

        public HealthSection? Health { get; init; }

        public List<KeyStoreSection>? KeyStores { get; init; }

        public BackendSection? Backend { get; init; }
    }

    private sealed class ServerSection
    {
        public required string Address { get; init; }

        public required int Port { get; init; }

        public required int MetricsPort { get; init; }

        public TlsSection? Tls { get; init; }
    }

    private sealed class TlsSection
    {
        public required string CertificateFile { get; init; }

        public required string PrivateKeyFile { get; init; }
    }

    private sealed class HealthSection
    {
        public required int FleetSize { get; init; }
    }

    private sealed class KeyStoreSection
    {
        public required string Name { get; init; }

        public required string UriPathPrefix { get; init; }

        public required bool Blocked { get; init; }

        public required List<CredentialSection> Credentials { get; init; }

        public required List<KeySection> Keys { get; init; }
    }

    private sealed class CredentialSection
    {
        public required string AccessKeyId { get; init; }

        public required string SecretAccessKey { get; init; }
    }

    private sealed class KeySection
    {
        public required string Id { get; init; }

        public required List<string> Usage { get; init; }

        public required bool Enabled { get; init; }

        public List<VersionSection>? Versions { get; init; }

        public AuthorizationSection? Authorization { get; init; }
    }

    private sealed class VersionSection
    {
        public required int Version { get; init; }

        public string? WrappedMaterial { get; init; }

        public required string CreatedAt { get; init; }
    }

    private sealed class AuthorizationSection
    {
        public required List<string> Principals { get; init; }

        public required List<string> ViaServices { get; init; }

        public required List<string> SourceVpcs { get; init; }

        public required List<string> SourceVpces { get; init; }
    }

    private sealed class BackendSection
    {
        public SoftwareSection? Software { get; init; }

        public Pkcs11Section? Pkcs11 { get; init; }
    }

    private sealed class Pkcs11Section
    {
        public required string Library { get; init; }

        public required List<TokenSection> Tokens { get; init; }

        public required string PinFile { get; init; }

        public required string IvGeneration { get; init; }

        public required SessionPoolSection SessionPool { get; init; }

        public required bool CreateMissingKeys { get; init; }
    }

    private sealed class TokenSection
    {
        public string? Label { get; init; }

        public long? Slot { get; init; }

        public string? Library { get; init; }
    }

    private sealed class SessionPoolSection
    {
        public required int MaxSessions { get; init; }

        public required int WaitTimeoutMilliseconds { get; init; }
    }

    private sealed class SoftwareSection
    {
        public required string MasterKeyFile { get; init; }

        public required string DataDir { get; init; }

        public required bool CreateMissingKeys { get; init; }
    }
}
