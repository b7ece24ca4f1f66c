using System.Text.Json;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>
/// One proxy with server.tls.clientCertificate {caFile, allowedSubjects: [cks.kms.us-east-1.amazonaws.com]}, as AWS
/// KMS presents it, and client certificates made for each way a handshake must succeed or be terminated.
/// </summary>
public sealed class MutualTlsFixture : IAsyncLifetime
{
    public const string AllowedSubject = "cks.kms.us-east-1.amazonaws.com";

    public ProxyProcess Proxy { get; private set; } = null!;

    public PemFiles Server { get; private set; } = null!;

    public PemFiles Allowed { get; private set; } = null!;

    public PemFiles FromAnotherCa { get; private set; } = null!;

    public PemFiles AnotherSubject { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var directory = ProxyProcess.CreateDirectory();
        Server = SelfSignedCertificate.WriteServer(directory, "server");
        using var clientCa = TestCertificateAuthority.Create("XKS test client CA");
        using var otherCa = TestCertificateAuthority.Create("Some other CA");
        var clientCaFiles = clientCa.Write(directory, "client-ca");
        Allowed = PemFiles.Write(directory, "kms-client", clientCa.IssueClient(AllowedSubject));
        FromAnotherCa = PemFiles.Write(directory, "other-ca-client", otherCa.IssueClient(AllowedSubject));
        AnotherSubject = PemFiles.Write(directory, "other-subject-client", clientCa.IssueClient("cks.kms.eu-west-1.amazonaws.com"));
        Proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data"), ConformanceProxy.TlsBlock(Server, clientCaFiles, AllowedSubject)),
            serverCertificate: Server.Certificate,
            clientCertificate: Allowed.Certificate);
    }

    public async Task DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
    }
}

public sealed class MutualTlsTests(MutualTlsFixture fixture) : IClassFixture<MutualTlsFixture>
{
    [Fact]
    public async Task MutualTls_ClientCertificateOfTheAllowedSubjectAndCa_CompletesTheSignedRequest()
    {
        var result = await CurlAsync(fixture.Allowed);

        Assert.True(result.ExitCode == 0, result + "\n--- proxy output ---\n" + fixture.Proxy.Output);
        var (body, status) = SplitStatus(result.StandardOutput);
        Assert.True(status == "200", result.ToString());
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("xksProxyFleetSize").GetInt32() > 0);
    }

    [Theory]
    [InlineData("1.3")]
    [InlineData("1.2")]
    public async Task MutualTls_ClientCertificateFromAnotherCa_FailsTheHandshake(string tlsMax)
    {
        AssertHandshakeFailed(await CurlAsync(fixture.FromAnotherCa, tlsMax));
    }

    [Theory]
    [InlineData("1.3")]
    [InlineData("1.2")]
    public async Task MutualTls_ClientCertificateWithAnotherSubject_FailsTheHandshake(string tlsMax)
    {
        AssertHandshakeFailed(await CurlAsync(fixture.AnotherSubject, tlsMax));
    }

    [Theory]
    [InlineData("1.3")]
    [InlineData("1.2")]
    public async Task MutualTls_NoClientCertificate_FailsTheHandshake(string tlsMax)
    {
        AssertHandshakeFailed(await CurlAsync(clientCertificate: null, tlsMax));
    }

    private async Task<ToolResult> CurlAsync(PemFiles? clientCertificate, string tlsMax = "1.3")
    {
        var curl = ExternalTool.Require("curl", "curl");
        List<string> arguments = ["-v", "--cacert", fixture.Server.CertificateFile, "-w", "\n%{http_code}", "--max-time", "10", "--tls-max", tlsMax];
        if (clientCertificate is not null)
        {
            arguments.AddRange(["--cert", clientCertificate.CertificateFile, "--key", clientCertificate.KeyFile]);
        }

        arguments.AddRange(ConformanceProxy.ReadmeCurlArguments(fixture.Proxy.BaseAddress));
        return await ExternalTool.RunAsync(curl, arguments);
    }

    /// <summary>
    /// The proxy must end the TLS session before any HTTP exchange: curl fails and never sees a status line. (On
    /// .NET 10 / Linux, SslStream checks the client certificate right after the OpenSSL handshake and then closes the
    /// connection without an alert, so curl reports a closed connection (exit 18, 55 or 56) rather than a handshake
    /// alert (35); either way no request reaches the proxy.)
    /// </summary>
    private static void AssertHandshakeFailed(ToolResult result)
    {
        Assert.True(result.ExitCode != 0, "the TLS session must be terminated, but curl succeeded:\n" + result);
        Assert.True(result.StandardOutput.Trim() == "000", "no HTTP response may come back:\n" + result);

        // Failures on curl's own side would make this test pass for the wrong reason.
        int[] clientSide = [2, 6, 7, 28, 58, 59, 60, 77];
        Assert.True(!clientSide.Contains(result.ExitCode), $"curl failed on its own side (exit {result.ExitCode}), not because the proxy refused:\n{result}");
        Assert.Contains("SSL certificate verify ok", result.StandardError, StringComparison.Ordinal);
    }

    private static (string Body, string Status) SplitStatus(string output)
    {
        var at = output.LastIndexOf('\n');
        return (output[..at], output[(at + 1)..].Trim());
    }
}
