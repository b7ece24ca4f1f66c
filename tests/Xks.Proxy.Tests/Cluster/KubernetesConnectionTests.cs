using k8s;

namespace Xks.Proxy.Cluster.Tests;

public sealed class KubernetesConnectionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-k8s-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void DefaultNamespace_InAPod_IsThePodsNamespace()
    {
        var file = Path.Combine(_directory, "namespace");
        File.WriteAllText(file, "team-a\n");
        Assert.Equal("team-a", KubernetesConnection.DefaultNamespace(new KubernetesClientConfiguration { Namespace = "other" }, file));
    }

    [Fact]
    public void DefaultNamespace_OutsideAPod_IsTheKubeconfigsOrDefault()
    {
        var absent = Path.Combine(_directory, "absent");
        Assert.Equal("dev", KubernetesConnection.DefaultNamespace(new KubernetesClientConfiguration { Namespace = "dev" }, absent));
        Assert.Equal("default", KubernetesConnection.DefaultNamespace(new KubernetesClientConfiguration(), absent));
    }

    [Fact]
    public void Build_KubeconfigThatDoesNotExist_SaysSo()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => KubernetesConnection.Build(Path.Combine(_directory, "nope")));
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Kubeconfig_ReadsServerAndNamespace()
    {
        var path = Path.Combine(_directory, "kubeconfig");
        File.WriteAllText(path, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
            users:
            - name: u
              user: {token: abc}
            contexts:
            - name: x
              context: {cluster: c, user: u, namespace: team-b}
            current-context: x
            """);
        var configuration = KubernetesConnection.Build(path);
        Assert.Equal("https://127.0.0.1:6443/", configuration.Host.TrimEnd('/') + "/");
        Assert.Equal("team-b", configuration.Namespace);
    }
}
