using Xks.Testing;

namespace Xks.KmsEmulator.Tests.Support;

/// <summary>A throw-away CA (ca.pem) and a server certificate for one DNS name (server.pem, server.key) it issued.</summary>
public sealed record TestAuthority(string CaFile, string CertificateFile, string KeyFile)
{
    public static TestAuthority Create(string directory, string dnsName)
    {
        using var ca = TestCertificateAuthority.Create("XKS emulator test CA");
        var server = PemFiles.Write(directory, "server", ca.IssueServer(dnsName));
        return new TestAuthority(ca.Write(directory, "ca").CertificateFile, server.CertificateFile, server.KeyFile);
    }
}
