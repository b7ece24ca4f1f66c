using System.Net;
using k8s;
using k8s.Autorest;
using Xks.Operator.Crds.Tests;
using Xks.Operator.Entities;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// Base of the tests that run the operator process against the local control plane: the CRDs installed, a fresh
/// namespace per test (deleted afterwards), and the reads and waits those tests share.
/// </summary>
public abstract class OperatorClusterTest(string namespacePrefix) : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    protected LocalCluster Cluster { get; } = LocalCluster.Instance;

    protected IKubernetes Client => Cluster.Client;

    /// <summary>This test's namespace.</summary>
    protected string Ns { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await ClusterCrds.InstallAsync();
        Ns = await Cluster.CreateNamespaceAsync(namespacePrefix);
    }

    public async Task DisposeAsync() => await Client.CoreV1.DeleteNamespaceAsync(Ns);

    /// <summary>An operator process watching this test's namespace, ready.</summary>
    internal async Task<OperatorProcess> StartOperatorAsync(bool leaderElect = false, string? extraArguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var op = await OperatorProcess.StartAsync(Ns, leaderElect, extraArguments, environment);
        await op.WaitReadyAsync(Timeout);
        return op;
    }

    /// <summary>An operator process whose drift checks come every 2 s instead of every 3 h (the tests of AWS drift).</summary>
    internal Task<OperatorProcess> StartFastResyncOperatorAsync() => StartOperatorAsync(extraArguments: "--aws-resync-period 2s");

    protected async Task ApplyAsync(string yaml) =>
        (await Cluster.KubectlAsync($"apply -n {Ns} -f -", yaml)).EnsureSuccess("kubectl apply");

    protected async Task<V1Alpha1Vault> GetVaultAsync(string name) =>
        KubernetesJson.Deserialize<V1Alpha1Vault>(KubernetesJson.Serialize(
            await Client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, "vaults", name)));

    protected async Task<V1Alpha1Vault> WaitForVaultAsync(string name, Func<V1Alpha1Vault, bool> condition)
    {
        V1Alpha1Vault? vault = null;
        await Eventually.HoldsAsync(async () => condition(vault = await GetVaultAsync(name)), Timeout, $"Vault {name}");
        return vault!;
    }

    /// <summary>Reads an object; null on 404.</summary>
    protected static async Task<T?> TryAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Polls until the object exists and returns it.</summary>
    protected static async Task<T> WaitForAsync<T>(Func<Task<T>> read, string what)
        where T : class
    {
        T? found = null;
        await Eventually.HoldsAsync(async () => (found = await TryAsync(read)) is not null, Timeout, what);
        return found!;
    }

    protected static async Task AssertNotFoundAsync<T>(Func<Task<T>> read)
        where T : class =>
        Assert.Null(await TryAsync(read));
}
