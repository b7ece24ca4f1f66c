using System.Globalization;
using System.Text;
using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// The proxy's YAML for a benchmark run: one key store with one key, audit lines to a file, no metrics listener,
/// TLS when certificate files are given, the software backend or PKCS#11. Data and audit live in the run's
/// temporary directory.
/// </summary>
internal static class ProxyConfigFile
{
    public const string Prefix = "/bench";
    public const string KeyId = "bench-key";

    public static readonly string ProxyDll = Path.Combine(AppContext.BaseDirectory, "xks-proxy.dll");

    /// <summary>The <c>backend:</c> section for key files under DIRECTORY/data.</summary>
    public static string SoftwareBackend(string directory) => $"""
        backend:
          software:
            dataDir: {Quote(Path.Combine(directory, "data"))}

        """;

    /// <summary>The <c>backend:</c> section for one SoftHSM2 token with a pool of <paramref name="maxSessions"/> sessions.</summary>
    public static string Pkcs11Backend(SoftHsmToken token, int maxSessions) => string.Create(CultureInfo.InvariantCulture, $"""
        backend:
          pkcs11:
            library: {Quote(token.LibraryPath)}
            tokens:
              - label: {SoftHsmToken.Label}
            pinFile: {Quote(token.PinFile)}
            sessionPool:
              maxSessions: {maxSessions}
              waitTimeoutMilliseconds: 100

        """);

    public static string Write(string directory, int port, BenchCredentials credentials, PemFiles? tls, string backend)
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"""
            regions: [{BenchCredentials.Region}]
            server:
              address: 127.0.0.1
              port: {port}
              metricsPort: 0

            """);
        if (tls is not null)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"""
                  tls:
                    certificateFile: {Quote(tls.CertificateFile)}
                    privateKeyFile: {Quote(tls.KeyFile)}

                """);
        }

        yaml.Append(CultureInfo.InvariantCulture, $"""
            audit:
              enabled: true
              file: {Quote(Path.Combine(directory, "audit.log"))}
            keyStores:
              - name: bench
                uriPathPrefix: {Prefix}
                credentials:
                  - accessKeyId: {credentials.AccessKeyId}
                    secretAccessKey: {Quote(credentials.Secret)}
                keys:
                  - id: {KeyId}
                    usage: [ENCRYPT, DECRYPT]

            """);
        yaml.Append(backend);
        var path = Path.Combine(directory, "proxy.yaml");
        File.WriteAllText(path, yaml.ToString());
        return path;
    }

    public static string KeyPath(string operation) => $"{Prefix}/kms/xks/v1/keys/{KeyId}/{operation.ToLowerInvariant()}";

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
