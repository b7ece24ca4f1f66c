using System.Globalization;
using System.Text;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>
/// Configurations and helpers of the real-client tier: the README quick-start values, the key set the conformance
/// client expects, the repository files (standalone.yaml, the Python client) and the runs of external clients.
/// </summary>
internal static class ConformanceProxy
{
    // The README quick start (config/proxy/standalone.yaml).
    public const string Prefix = "/example/uri/path/prefix";
    public const string AccessKeyId = "BETWEEN2TENAND3TENCHARACTERS";
    public const string Secret = "PleaseReplaceThisWithSomeSecretOfLength43To64";
    public const string Region = "us-east-1";
    public const string Key = "foo";
    public const string EncryptOnlyKey = "encrypt-only";
    public const string DecryptOnlyKey = "decrypt-only";
    public const string NoUsageKey = "no-usage";
    public const string DisabledKey = "switched-off";
    public const int MaxPlaintextBytes = 6144;
    public const int MaxAadBytes = 12288;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ConformanceScript => Path.Combine(RepositoryRoot, "tests", "conformance", "xks_conformance.py");

    /// <summary>
    /// A proxy with one key of each kind the conformance client exercises, audit lines on stdout (no audit.file),
    /// and an optional <c>server.tls</c> block (YAML lines relative to <c>tls:</c>). <paramref name="backend"/> replaces
    /// the software backend (a whole top-level <c>backend:</c> section, e.g. <see cref="Pkcs11TestToken.BackendYaml"/>).
    /// </summary>
    public static string Yaml(int port, string dataDir, string? tls = null, string? backend = null)
    {
        var sb = new StringBuilder();
        sb.Append("regions: [us-east-1]\n");
        sb.Append(CultureInfo.InvariantCulture, $"server:\n  address: 127.0.0.1\n  port: {port}\n  metricsPort: 0\n  reloadIntervalSeconds: 0.2\n");
        AppendTls(sb, tls);
        sb.Append(CultureInfo.InvariantCulture, $"limits:\n  maxPlaintextBytes: {MaxPlaintextBytes}\n  maxAadBytes: {MaxAadBytes}\n");
        sb.Append("health:\n  fleetSize: 1\n  cacheSeconds: 5\n");
        sb.Append("audit:\n  enabled: true\n");
        sb.Append(CultureInfo.InvariantCulture, $"""
            keyStores:
              - name: example
                uriPathPrefix: {Prefix}
                credentials:
                  - accessKeyId: {AccessKeyId}
                    secretAccessKey: {Secret}
                keys:
                  - id: {Key}
                    usage: [ENCRYPT, DECRYPT]
                  - id: {EncryptOnlyKey}
                    usage: [ENCRYPT]
                  - id: {DecryptOnlyKey}
                    usage: [DECRYPT]
                  - id: {NoUsageKey}
                    usage: []
                  - id: {DisabledKey}
                    enabled: false

            """);
        sb.Append(backend ?? $"backend:\n  software:\n    dataDir: {dataDir}\n");
        return sb.ToString();
    }

    /// <summary>
    /// config/proxy/standalone.yaml as `make run` uses it, moved to <paramref name="port"/> with metrics off, a
    /// temporary data directory and, optionally, a TLS block.
    /// </summary>
    public static string StandaloneYaml(int port, string dataDir, string? tls = null)
    {
        var original = File.ReadAllText(Path.Combine(RepositoryRoot, "config", "proxy", "standalone.yaml"));
        var lines = new List<string>();
        foreach (var line in original.Split('\n'))
        {
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("port: 8080", StringComparison.Ordinal))
            {
                lines.Add(line.Replace("8080", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            }
            else if (trimmed.StartsWith("metricsPort:", StringComparison.Ordinal))
            {
                lines.Add(line[..line.IndexOf('m', StringComparison.Ordinal)] + "metricsPort: 0");
                if (tls is not null)
                {
                    var sb = new StringBuilder();
                    AppendTls(sb, tls);
                    lines.Add(sb.ToString().TrimEnd('\n'));
                }
            }
            else if (trimmed.StartsWith("dataDir:", StringComparison.Ordinal))
            {
                lines.Add(line[..line.IndexOf('d', StringComparison.Ordinal)] + "dataDir: " + dataDir);
            }
            else
            {
                lines.Add(line);
            }
        }

        var yaml = string.Join('\n', lines);
        Assert.Contains($"port: {port}", yaml, StringComparison.Ordinal);
        Assert.Contains("dataDir: " + dataDir, yaml, StringComparison.Ordinal);
        return yaml;
    }

    public static string TlsBlock(PemFiles server, PemFiles? clientCa = null, string? allowedSubject = null)
    {
        var tls = $"certificateFile: {server.CertificateFile}\nprivateKeyFile: {server.KeyFile}\n";
        if (clientCa is not null)
        {
            tls += $"clientCertificate:\n  caFile: {clientCa.CertificateFile}\n  allowedSubjects: [{allowedSubject}]\n";
        }

        return tls;
    }

    /// <summary>Runs tests/conformance/xks_conformance.py against the proxy with every special key.</summary>
    public static async Task<ToolResult> RunConformanceClientAsync(ProxyProcess proxy, string? caFile = null)
    {
        var python = ExternalTool.RequirePythonWithBotocore();
        Assert.True(File.Exists(ConformanceScript), $"the conformance client {ConformanceScript} is missing");
        List<string> arguments =
        [
            ConformanceScript,
            "--url", proxy.BaseAddress.GetLeftPart(UriPartial.Authority),
            "--prefix", Prefix,
            "--region", Region,
            "--key", Key,
            "--encrypt-only-key", EncryptOnlyKey,
            "--decrypt-only-key", DecryptOnlyKey,
            "--no-usage-key", NoUsageKey,
            "--disabled-key", DisabledKey,
            "--max-plaintext-bytes", MaxPlaintextBytes.ToString(CultureInfo.InvariantCulture),
            "--max-aad-bytes", MaxAadBytes.ToString(CultureInfo.InvariantCulture),
        ];
        if (caFile is not null)
        {
            arguments.AddRange(["--ca-file", caFile]);
        }

        // The credentials go through the environment, as the client's help suggests for secrets.
        var environment = new Dictionary<string, string>
        {
            ["XKS_ACCESS_KEY_ID"] = AccessKeyId,
            ["XKS_SECRET_ACCESS_KEY"] = Secret,
            ["PYTHONDONTWRITEBYTECODE"] = "1",
        };
        return await ExternalTool.RunAsync(python, arguments, TimeSpan.FromSeconds(60), environment);
    }

    /// <summary>The README's curl --aws-sigv4 health call, against <paramref name="baseAddress"/>.</summary>
    public static List<string> ReadmeCurlArguments(Uri baseAddress, string secret = Secret) =>
    [
        "-s",
        "--aws-sigv4", "aws:amz:us-east-1:kms-xks-proxy",
        "--user", $"{AccessKeyId}:{secret}",
        "-H", "Content-Type: application/json",
        "-d", """{"requestMetadata":{"kmsRequestId":"1","kmsOperation":"KmsHealthCheck"}}""",
        new Uri(baseAddress, Prefix + "/kms/xks/v1/health").ToString(),
    ];

    private static void AppendTls(StringBuilder sb, string? tls)
    {
        if (tls is null)
        {
            return;
        }

        sb.Append("  tls:\n");
        foreach (var line in tls.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append("    ").Append(line).Append('\n');
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "XksOperator.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no XksOperator.sln above {AppContext.BaseDirectory}: run the tests from the repository's build output");
    }
}
