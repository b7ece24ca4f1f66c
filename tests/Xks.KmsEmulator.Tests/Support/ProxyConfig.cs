using System.Text;

namespace Xks.KmsEmulator.Tests.Support;

/// <summary>The proxy's YAML for one key store under <see cref="Prefix"/> with TLS from a <see cref="TestAuthority"/>.</summary>
public sealed class ProxyConfig
{
    public const string Host = "xks.emulator.test";
    public const string Prefix = "/team-a";
    public const string UriPath = Prefix + "/kms/xks/v1";
    public const string AccessKeyId = "EMULATORTESTACCESSKEY234";
    public const string Secret = "ZW11bGF0b3IgdGVzdCBzZWNyZXQgb2YgZm9ydHktZm91cg==";
    public const string OtherAccessKeyId = "EMULATOROTHERACCESSKEY2";

    private readonly TestAuthority _authority;

    public ProxyConfig(TestAuthority authority) => _authority = authority;

    public List<(string Id, string Secret)> Credentials { get; } = [(AccessKeyId, Secret)];

    /// <summary>Key id → (usage, enabled).</summary>
    public Dictionary<string, (string Usage, bool Enabled)> Keys { get; } = new()
    {
        ["key-a"] = ("[ENCRYPT, DECRYPT]", true),
        ["key-b"] = ("[ENCRYPT, DECRYPT]", true),
        ["encrypt-only"] = ("[ENCRYPT]", true),
        ["switched-off"] = ("[ENCRYPT, DECRYPT]", false),
    };

    public string Build(int port, string dataDir)
    {
        var sb = new StringBuilder();
        sb.Append("regions: [us-east-1]\n");
        sb.Append($"server:\n  address: 127.0.0.1\n  port: {port}\n  metricsPort: 0\n  reloadIntervalSeconds: 0.2\n");
        sb.Append($"  tls:\n    certificateFile: {_authority.CertificateFile}\n    privateKeyFile: {_authority.KeyFile}\n");
        sb.Append("health:\n  fleetSize: 1\n  cacheSeconds: 5\n");
        sb.Append($"keyStores:\n  - name: team-a\n    uriPathPrefix: \"{Prefix}\"\n    credentials:\n");
        foreach (var (id, secret) in Credentials)
        {
            sb.Append($"      - accessKeyId: {id}\n        secretAccessKey: \"{secret}\"\n");
        }

        sb.Append("    keys:\n");
        foreach (var (id, (usage, enabled)) in Keys)
        {
            sb.Append($"      - id: {id}\n        usage: {usage}\n        enabled: {(enabled ? "true" : "false")}\n");
        }

        sb.Append($"backend:\n  software:\n    dataDir: {dataDir}\n");
        return sb.ToString();
    }
}
