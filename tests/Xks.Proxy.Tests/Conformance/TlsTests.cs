using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>One HTTPS proxy process (self-signed ECDSA certificate for 127.0.0.1 and localhost).</summary>
public sealed class HttpsProxyFixture : IAsyncLifetime
{
    public ProxyProcess Proxy { get; private set; } = null!;

    public PemFiles Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var directory = ProxyProcess.CreateDirectory();
        Server = SelfSignedCertificate.WriteServer(directory, "server");
        Proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data"), ConformanceProxy.TlsBlock(Server)),
            serverCertificate: Server.Certificate);
    }

    public async Task DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
    }
}

/// <summary>The spec's transport rules: TLS 1.2 or later, with AES-256-GCM or ChaCha20-Poly1305 suites only.</summary>
public sealed class TlsTests(HttpsProxyFixture fixture) : IClassFixture<HttpsProxyFixture>
{
    // XKS spec §1: at least one of these; the proxy offers nothing else.
    private static readonly TlsCipherSuite[] SpecSuites =
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ];

    [Fact]
    public async Task Tls_Version11_IsRefusedWhileVersion12Works()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var ping = new Uri(fixture.Proxy.BaseAddress, "/ping").ToString();
        // SECLEVEL=0 lets this curl offer TLS 1.1 at all, so a failure is the proxy's refusal, not curl's.
        List<string> common = ["-s", "-S", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "--cacert", fixture.Server.CertificateFile, "--ciphers", "DEFAULT@SECLEVEL=0"];

        var tls11 = await ExternalTool.RunAsync(curl, [.. common, "--tlsv1.1", "--tls-max", "1.1", ping]);
        var tls12 = await ExternalTool.RunAsync(curl, [.. common, "--tlsv1.2", "--tls-max", "1.2", ping]);

        Assert.True(tls11.ExitCode == 35 && tls11.StandardOutput.Trim() == "000", "TLS 1.1 must fail the handshake (curl exit 35):\n" + tls11);
        Assert.True(tls12.ExitCode == 0 && tls12.StandardOutput.Trim() == "200", "the same command over TLS 1.2 must work:\n" + tls12);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Tls_Handshake_NegotiatesASuiteTheSpecNames(SslProtocols protocol)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, fixture.Proxy.Port);
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);

        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocol,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(fixture.Server.Certificate.RawData),
        });

        Assert.Equal(protocol, ssl.SslProtocol);
        Assert.Contains(ssl.NegotiatedCipherSuite, SpecSuites);
    }

    [Fact]
    public async Task Tls_Version12OfferingOnlyAes128Suites_IsRefused()
    {
        var openssl = ExternalTool.Require("openssl", "openssl");
        List<string> common = ["s_client", "-connect", $"127.0.0.1:{fixture.Proxy.Port}", "-servername", "localhost", "-tls1_2", "-CAfile", fixture.Server.CertificateFile];

        var aes128 = await ExternalTool.RunAsync(openssl, [.. common, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256"]);
        var aes256 = await ExternalTool.RunAsync(openssl, [.. common, "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"]);

        Assert.True(aes128.ExitCode != 0 && !aes128.StandardOutput.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal), "AES-128 suites must not be negotiated:\n" + aes128);
        Assert.True(aes256.ExitCode == 0, "the spec's AES-256-GCM suite must be negotiated:\n" + aes256);
        Assert.Contains("ECDHE-ECDSA-AES256-GCM-SHA384", aes256.StandardOutput, StringComparison.Ordinal);
    }
}
