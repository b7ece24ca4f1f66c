using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using Xks.Proxy.Hosting;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Cluster.Tests;

/// <summary>
/// The proxy as a real process with the credentials its pod will have: a ServiceAccount token (TokenRequest API)
/// whose only permission is get, list and watch on its own config Secret (<c>resourceNames</c>). It must start,
/// follow changes through its watch, and be refused any other Secret.
/// </summary>
public sealed class LeastPrivilegeClusterTests
{
    private const string ServiceAccount = "xks-proxy";

    [Fact]
    public async Task Serve_ServiceAccountAllowedOnlyItsSecret_StartsAndFollowsChanges_AndCannotReadAnotherSecret()
    {
        await using var server = await ClusterProxyServer.PrepareAsync(b => b.Key("foo"), keyMaterial: ["foo"]);
        await server.WriteSecretAsync(server.Render());
        await server.WriteSecretAsync(server.Render(), name: "another-vault-proxy-config");
        var kubeconfig = await ServiceAccountKubeconfigAsync(server);

        await using (var proxy = await ProxyProcess.StartWithArgumentsAsync(
            ProxyProcess.CreateDirectory(),
            ["serve", "--config-secret", $"{server.Namespace}/{ClusterProxyServer.SecretName}", "--kubeconfig", kubeconfig],
            server.Port))
        {
            using var client = new XksClient(proxy.BaseAddress);
            Assert.Equal(HttpStatusCode.OK, (await client.HealthAsync()).Status);
            var encrypted = await client.EncryptAsync("foo", [1, 2, 3]);
            Assert.Equal(HttpStatusCode.OK, encrypted.Status);

            // The HYOK switch through the Secret: the watch, under least privilege, brings it within seconds.
            await server.RewriteSecretAsync(b => b.ClearKeys().Key("foo", enabled: false));
            var took = await Eventually.HoldsAsync(
                async () => (await client.DecryptAsync("foo", encrypted)).ErrorName == "InvalidStateException", TimeSpan.FromSeconds(10), "key disabled through the watch");
            Assert.True(took < TimeSpan.FromSeconds(10));

            await proxy.StopAsync();
            Assert.DoesNotContain("forbidden", proxy.Output, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Cannot list or watch", proxy.Output, StringComparison.Ordinal);
            ConfigSecretWatcherClusterTests.AssertNoSecretsIn(proxy.Output);
        }

        // The same credentials on another Secret of the namespace: refused, and the message says what to grant.
        var refused = await ProxyProcess.RunToExitAsync(
            server.Directory,
            ["serve", "--config-secret", $"{server.Namespace}/another-vault-proxy-config", "--kubeconfig", kubeconfig, "--startup-timeout", "1"],
            TimeSpan.FromSeconds(30));
        Assert.Equal(ProxyCommandLine.ExitConfigError, refused.ExitCode);
        Assert.Contains("forbidden", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("resourceNames [another-vault-proxy-config]", refused.StandardError, StringComparison.Ordinal);
    }

    /// <summary>ServiceAccount, Role (get/list/watch on the one Secret), RoleBinding, a token, and a kubeconfig file with it.</summary>
    private static async Task<string> ServiceAccountKubeconfigAsync(ClusterProxyServer server)
    {
        var admin = ClusterProxyServer.Cluster.Client;
        var ns = server.Namespace;
        await admin.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = ServiceAccount } }, ns);
        await admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(
            new V1Role
            {
                Metadata = new V1ObjectMeta { Name = "xks-proxy-config-reader" },
                Rules =
                [
                    new V1PolicyRule
                    {
                        ApiGroups = [""],
                        Resources = ["secrets"],
                        ResourceNames = [ClusterProxyServer.SecretName],
                        Verbs = ["get", "list", "watch"],
                    },
                ],
            },
            ns);
        await admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(
            new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = "xks-proxy-config-reader" },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = "xks-proxy-config-reader" },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = ServiceAccount, NamespaceProperty = ns }],
            },
            ns);

        var token = await admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { Audiences = ["https://kubernetes.default.svc"], ExpirationSeconds = 3600 } },
            ServiceAccount,
            ns);

        var configuration = ClusterProxyServer.Cluster.Configuration;
        var ca = string.Concat(configuration.SslCaCerts.Cast<X509Certificate2>().Select(c => c.ExportCertificatePem() + "\n"));
        var path = Path.Combine(server.Directory, "sa-kubeconfig");
        await File.WriteAllTextAsync(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster:
                server: {configuration.Host}
                certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(ca))}
            users:
            - name: {ServiceAccount}
              user:
                token: {token.Status.Token}
            contexts:
            - name: proxy
              context:
                cluster: local
                user: {ServiceAccount}
                namespace: {ns}
            current-context: proxy
            """);

        // The RBAC rules are what we think they are: this token may not list the namespace's Secrets.
        using var asServiceAccount = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(path));
        var ex = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => asServiceAccount.CoreV1.ListNamespacedSecretAsync(ns));
        Assert.Equal(HttpStatusCode.Forbidden, ex.Response.StatusCode);
        return path;
    }
}
