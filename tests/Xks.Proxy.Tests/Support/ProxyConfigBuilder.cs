using System.Globalization;
using System.Text;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.Tests.Support;

/// <summary>Writes a proxy YAML document for tests: one key store by default, keys and options added fluently.</summary>
public sealed class ProxyConfigBuilder
{
    private readonly List<string> _keys = [];
    private readonly List<(string Id, string Secret)> _credentials = [(TestCredentials.AccessKeyId, TestCredentials.Secret)];
    private readonly List<string> _extraStores = [];

    public string Prefix { get; set; } = TestCredentials.Prefix;

    public bool Blocked { get; set; }

    public string? Tls { get; set; }

    public string Regions { get; set; } = "[us-east-1]";

    public int RequestsPerSecond { get; set; }

    public int MaxPlaintextBytes { get; set; } = 6144;

    public int MaxAadBytes { get; set; } = 12288;

    public int MetricsPort { get; set; }

    /// <summary>Writes <c>keyStores: []</c> (valid in cluster mode only).</summary>
    public bool NoKeyStores { get; set; }

    /// <summary>backend.software.masterKeyFile; null leaves it out.</summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>backend.software.createMissingKeys; null leaves it out (default true).</summary>
    public bool? CreateMissingKeys { get; set; }

    /// <summary>Lines of <c>backend.software.sealing</c> (unindented YAML); null leaves the block out.</summary>
    public string? Sealing { get; set; }

    /// <summary>backend.software.shamir.keyring, written as its JSON (a YAML flow mapping); null leaves the shamir block out.</summary>
    public ShamirKeyring? ShamirKeyring { get; set; }

    /// <summary>backend.software.shamir.adminPort; 0 leaves it out (the default 9444). <see cref="ProxyServer"/> picks a free one.</summary>
    public int ShamirAdminPort { get; set; }

    /// <summary>The PKCS#11 backend on this SoftHSM2 token instead of the software backend.</summary>
    public Pkcs11TestToken? Pkcs11 { get; set; }

    /// <summary>Extra lines under <c>backend.pkcs11</c> (with <see cref="Pkcs11"/>).</summary>
    public string? Pkcs11Extra { get; set; }

    /// <summary>Further tokens after <see cref="Pkcs11"/> (same PIN, each with its own library copy).</summary>
    public List<Pkcs11TestToken> Pkcs11MoreTokens { get; } = [];

    /// <summary>backend.pkcs11.createMissingKeys (with <see cref="Pkcs11"/>).</summary>
    public bool Pkcs11CreateMissingKeys { get; set; } = true;

    /// <summary>
    /// A key; with <paramref name="versions"/> its wrapped material is inline (no key file). An empty material writes
    /// the version number only (the PKCS#11 backend's form).
    /// </summary>
    public ProxyConfigBuilder Key(
        string id,
        string usage = "[ENCRYPT, DECRYPT]",
        bool enabled = true,
        string? authorization = null,
        IReadOnlyList<(int Version, string WrappedMaterial)>? versions = null)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"      - id: {id}\n        usage: {usage}\n        enabled: {(enabled ? "true" : "false")}\n");
        if (authorization is not null)
        {
            sb.Append("        authorization:\n");
            foreach (var line in authorization.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                sb.Append("          ").Append(line.Trim()).Append('\n');
            }
        }

        if (versions is not null)
        {
            sb.Append("        versions:\n");
            foreach (var (version, wrapped) in versions)
            {
                sb.Append(CultureInfo.InvariantCulture, $"          - version: {version}\n");
                if (wrapped.Length > 0)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"            wrappedMaterial: \"{wrapped}\"\n");
                }

                sb.Append("            createdAt: 2026-11-28T19:00:00Z\n");
            }
        }

        _keys.Add(sb.ToString());
        return this;
    }

    public ProxyConfigBuilder ClearKeys()
    {
        _keys.Clear();
        return this;
    }

    public ProxyConfigBuilder Credential(string accessKeyId, string secret)
    {
        _credentials.Add((accessKeyId, secret));
        return this;
    }

    public ProxyConfigBuilder WithoutDefaultCredential()
    {
        _credentials.RemoveAt(0);
        return this;
    }

    /// <summary>Adds a raw YAML key store entry (starting with "  - name: ...").</summary>
    public ProxyConfigBuilder ExtraKeyStore(string yaml)
    {
        _extraStores.Add(yaml);
        return this;
    }

    public string Build(int port, string dataDir, string auditFile)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"regions: {Regions}\n");
        sb.Append(CultureInfo.InvariantCulture, $"server:\n  address: 127.0.0.1\n  port: {port}\n  metricsPort: {MetricsPort}\n  reloadIntervalSeconds: 0.2\n");
        if (Tls is not null)
        {
            sb.Append("  tls:\n");
            foreach (var line in Tls.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                sb.Append("    ").Append(line).Append('\n');
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"limits:\n  maxPlaintextBytes: {MaxPlaintextBytes}\n  maxAadBytes: {MaxAadBytes}\n  requestsPerSecondPerKeyStore: {RequestsPerSecond}\n");
        sb.Append("health:\n  fleetSize: 2\n  cacheSeconds: 5\n");
        sb.Append(CultureInfo.InvariantCulture, $"audit:\n  enabled: true\n  file: {auditFile}\n");
        if (NoKeyStores)
        {
            sb.Append("keyStores: []\n");
            AppendBackend(sb, dataDir);
            return sb.ToString();
        }

        sb.Append("keyStores:\n");
        sb.Append(CultureInfo.InvariantCulture, $"  - name: test\n    uriPathPrefix: \"{Prefix}\"\n    blocked: {(Blocked ? "true" : "false")}\n    credentials:\n");
        foreach (var (id, secret) in _credentials)
        {
            sb.Append(CultureInfo.InvariantCulture, $"      - accessKeyId: {id}\n        secretAccessKey: \"{secret}\"\n");
        }

        sb.Append(_keys.Count == 0 ? "    keys: []\n" : "    keys:\n");
        foreach (var key in _keys)
        {
            sb.Append(key);
        }

        foreach (var store in _extraStores)
        {
            sb.Append(store.TrimEnd('\n')).Append('\n');
        }

        AppendBackend(sb, dataDir);
        return sb.ToString();
    }

    private void AppendBackend(StringBuilder sb, string dataDir)
    {
        if (Pkcs11 is { } token)
        {
            sb.Append(token.BackendYaml(Pkcs11CreateMissingKeys, Pkcs11Extra, Pkcs11MoreTokens));
            return;
        }

        sb.Append(CultureInfo.InvariantCulture, $"backend:\n  software:\n    dataDir: {dataDir}\n");
        if (MasterKeyFile is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    masterKeyFile: {MasterKeyFile}\n");
        }

        if (CreateMissingKeys is { } create)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    createMissingKeys: {(create ? "true" : "false")}\n");
        }

        if (ShamirKeyring is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    shamir:\n      keyring: {ShamirKeyring.Serialize()}\n");
            if (ShamirAdminPort != 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"      adminPort: {ShamirAdminPort}\n");
            }
        }

        if (Sealing is not null)
        {
            sb.Append("    sealing:\n");
            foreach (var line in Sealing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                sb.Append("      ").Append(line.TrimEnd()).Append('\n');
            }
        }
    }
}
