using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>Certificate rotation without a restart: new PEM files are served to new connections within seconds.</summary>
public sealed class CertificateReloadTests
{
    [Fact]
    public async Task ServerCertificate_ReplacedOnDiskWhileRunning_IsServedToNewConnections()
    {
        var openssl = ExternalTool.Require("openssl", "openssl");
        var curl = ExternalTool.Require("curl", "curl");
        var directory = ProxyProcess.CreateDirectory();
        var first = SelfSignedCertificate.WriteServer(directory, "server");
        await using var proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data"), ConformanceProxy.TlsBlock(first)),
            serverCertificate: first.Certificate);
        Assert.Equal(first.Sha256Fingerprint, await ServedFingerprintAsync(openssl, proxy.Port));

        // A new key pair and certificate, written over the files the proxy watches (each file replaced atomically).
        var second = SelfSignedCertificate.WriteServer(Path.Combine(directory, "next"), "server");
        Assert.NotEqual(first.Sha256Fingerprint, second.Sha256Fingerprint);
        await AtomicFile.WriteAllTextAsync(first.KeyFile, await File.ReadAllTextAsync(second.KeyFile));
        await AtomicFile.WriteAllTextAsync(first.CertificateFile, await File.ReadAllTextAsync(second.CertificateFile));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var served = first.Sha256Fingerprint;
        while (served != second.Sha256Fingerprint && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            served = await ServedFingerprintAsync(openssl, proxy.Port);
        }

        Assert.True(served == second.Sha256Fingerprint, $"the proxy still serves {served} 20 s after the files changed to {second.Sha256Fingerprint}\n{proxy.Output}");
        var health = await ExternalTool.RunAsync(curl, ["--cacert", second.CertificateFile, .. ConformanceProxy.ReadmeCurlArguments(proxy.BaseAddress)]);
        Assert.True(health.ExitCode == 0 && health.StandardOutput.Contains("xksProxyFleetSize", StringComparison.Ordinal), health.ToString());
        Assert.False(proxy.HasExited);
    }

    /// <summary>The SHA-256 fingerprint of the certificate a fresh openssl s_client connection is shown.</summary>
    private static async Task<string> ServedFingerprintAsync(string openssl, int port)
    {
        var result = await ExternalTool.RunAsync(openssl, ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost"]);
        Assert.True(result.StandardOutput.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal), result.ToString());
        using var certificate = X509Certificate2.CreateFromPem(result.StandardOutput);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }
}
