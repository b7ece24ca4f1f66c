using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Cluster.Tests;

public sealed class ConfigSecretSourceTests
{
    private static readonly ConfigSecretReference Reference = new("team-a", "vault-a-proxy-config");

    [Fact]
    public void Backoff_GrowsExponentially_WithJitter_AndIsCapped()
    {
        var initial = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(30);
        for (var i = 0; i < 200; i++)
        {
            var first = ConfigSecretSource.Backoff(1, initial, max);
            Assert.InRange(first.TotalMilliseconds, 500, 1000);
            var fourth = ConfigSecretSource.Backoff(4, initial, max);
            Assert.InRange(fourth.TotalMilliseconds, 4000, 8000);
            var late = ConfigSecretSource.Backoff(50, initial, max);
            Assert.InRange(late.TotalMilliseconds, 15000, 30000);
        }

        var samples = Enumerable.Range(0, 50).Select(_ => ConfigSecretSource.Backoff(3, initial, max)).Distinct().Count();
        Assert.True(samples > 40, "the delays are jittered");
    }

    [Fact]
    public void Describe_Forbidden_NamesTheMissingPermission_AndTheServersMessage()
    {
        var ex = Failure(HttpStatusCode.Forbidden, """{"kind":"Status","message":"secrets \"vault-a-proxy-config\" is forbidden: User \"system:serviceaccount:team-a:proxy\" cannot get resource \"secrets\""}""");
        var text = ConfigSecretSource.Describe(ex, Reference, "https://10.0.0.1:443");
        Assert.Contains("get, list and watch on secrets with resourceNames [vault-a-proxy-config]", text, StringComparison.Ordinal);
        Assert.Contains("cannot get resource", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, "Secret team-a/vault-a-proxy-config does not exist")]
    [InlineData(HttpStatusCode.Unauthorized, "refused the proxy's credentials")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "answered 503")]
    public void Describe_StatusCodes_ReadAsSentences(HttpStatusCode status, string expected) =>
        Assert.Contains(expected, ConfigSecretSource.Describe(Failure(status, ""), Reference, "https://10.0.0.1:443"), StringComparison.Ordinal);

    [Fact]
    public void Describe_Unreachable_NamesTheServer() =>
        Assert.Contains("cannot reach the API server at https://10.0.0.1:443", ConfigSecretSource.Describe(new HttpRequestException("Connection refused"), Reference, "https://10.0.0.1:443"), StringComparison.Ordinal);

    [Fact]
    public void IsGone_HttpAndWatchErrors_AreRecognised()
    {
        Assert.True(ConfigSecretSource.IsGone(Failure(HttpStatusCode.Gone, "")));
        Assert.True(ConfigSecretSource.IsGone(new KubernetesException(new V1Status { Code = 410, Reason = "Expired" })));
        Assert.False(ConfigSecretSource.IsGone(Failure(HttpStatusCode.InternalServerError, "")));
        Assert.False(ConfigSecretSource.IsGone(new IOException()));
    }

    [Fact]
    public void IsApiFailure_OwnCancellationIsNot()
    {
        using var stopped = new CancellationTokenSource();
        Assert.True(ConfigSecretSource.IsApiFailure(new TaskCanceledException(), stopped.Token));
        stopped.Cancel();
        Assert.False(ConfigSecretSource.IsApiFailure(new TaskCanceledException(), stopped.Token));
        Assert.False(ConfigSecretSource.IsApiFailure(new InvalidOperationException(), CancellationToken.None));
    }

    [Fact]
    public void Document_WithoutTheProxyYamlKey_IsRefusedWithAClearProblem()
    {
        var document = ConfigSecretDocument.From(new V1Secret { Metadata = new V1ObjectMeta { ResourceVersion = "7" }, Data = new Dictionary<string, byte[]> { ["other"] = [1] } });
        Assert.Null(document.Yaml);
        Assert.Equal("Secret team-a/vault-a-proxy-config has no key 'proxy.yaml'", Assert.Single(document.Load(Reference).Problems));
    }

    [Fact]
    public void Document_ValidYaml_LoadsInClusterMode_NamedAfterTheSecret()
    {
        var yaml = new ProxyConfigBuilder { NoKeyStores = true }.Build(8080, "/tmp/d", "/tmp/a");
        var document = ConfigSecretDocument.From(new V1Secret { Data = new Dictionary<string, byte[]> { ["proxy.yaml"] = Encoding.UTF8.GetBytes(yaml) } });
        var loaded = document.Load(Reference);
        Assert.True(loaded.Succeeded, string.Join("; ", loaded.Problems));
        Assert.Equal("Secret team-a/vault-a-proxy-config", loaded.Configuration!.Source);
        Assert.Equal(document.Hash, ConfigSecretDocument.From(new V1Secret { Data = new Dictionary<string, byte[]> { ["proxy.yaml"] = Encoding.UTF8.GetBytes(yaml) } }).Hash);
    }

    private static HttpOperationException Failure(HttpStatusCode status, string body) => new($"Operation returned an invalid status code '{status}'")
    {
        Response = new HttpResponseMessageWrapper(new HttpResponseMessage(status), body),
    };
}
