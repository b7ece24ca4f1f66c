using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>The kubernetes.io/tls Secret a public CA's certificate would end up in, for the proxy behind a LoadBalancer.</summary>
internal static class TlsSecret
{
    /// <summary>
    /// Creates (or replaces) the Secret <paramref name="secretName"/> with a certificate that <paramref name="ca"/> issues
    /// for <paramref name="hostname"/> and 127.0.0.1 (tls.crt, tls.key) and the CA certificate (ca.crt).
    /// </summary>
    public static async Task<V1Secret> CreateOrReplaceAsync(IKubernetes client, string @namespace, string secretName, TestCertificateAuthority ca, string hostname)
    {
        using var issued = ca.IssueServer(hostname, IPAddress.Loopback);
        using var key = issued.GetECDsaPrivateKey()!;
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = secretName },
            Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]>
            {
                ["tls.crt"] = Encoding.ASCII.GetBytes(issued.ExportCertificatePem() + "\n"),
                ["tls.key"] = Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"),
                ["ca.crt"] = Encoding.ASCII.GetBytes(ca.CertificatePem),
            },
        };
        try
        {
            return await client.CoreV1.CreateNamespacedSecretAsync(secret, @namespace);
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secretName, @namespace);
        }
    }
}
