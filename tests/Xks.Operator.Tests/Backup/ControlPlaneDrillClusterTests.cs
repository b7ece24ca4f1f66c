using System.Security.Cryptography;
using k8s;
using k8s.Models;
using Xks.Operator.Crds.Tests;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Backup.Tests;

/// <summary>
/// The disaster drill of issue 14, whole (docs/key-custody.md): the seed scenario on the control plane, a backup, then
/// <c>cluster.sh down</c> — which wipes etcd — and <c>cluster.sh up</c>: a fresh control plane with nothing in it. The
/// CRDs are installed again, the namespace is made again, the bundle is restored, and the object encrypted before the
/// disaster decrypts byte for byte through the key store and KMS key AWS kept. Category Drill: <c>make test</c> runs it
/// alone after every other test, since it takes the shared control plane down.
/// </summary>
[Trait("Category", "Drill")]
public sealed class ControlPlaneDrillClusterTests(ITestOutputHelper output) : OperatorClusterTest("drill")
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["aws:s3:arn"] = "arn:aws:s3:::drill/before-the-disaster" };

    [Fact]
    public async Task ControlPlaneWiped_RestoreIntoTheFreshOne_TheOldObjectDecrypts()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var content = RandomNumberGenerator.GetBytes(4096);
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        var keyId = (await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"))!;
        var files = TemporaryDirectory.Create("xks-drill");
        try
        {
            var key = Path.Combine(files, "backup");
            var pair = await OperatorCli.RunAsync("backup-key", "--public-key-out", key + ".pub", "--private-key-out", key + ".key");
            Assert.True(pair.ExitCode == 0, pair.Output);
            var bundle = Path.Combine(files, "xks.bundle");
            var backup = await OperatorCli.RunAsync("backup", "--namespace", Ns, "--vault", SeedEnvironment.VaultName, "--out", bundle, "--recipient", key + ".pub");
            Assert.True(backup.ExitCode == 0, backup.Output);

            // The disaster: the operator and the proxy gone, the control plane stopped and its etcd wiped.
            await seed.KillOperatorAsync();
            await seed.StopProxyAsync();
            var script = Path.Combine(LocalCluster.RepositoryRoot, "tests", "cluster", "cluster.sh");
            (await LocalCluster.RunAsync(script, "down")).EnsureSuccess("cluster.sh down");
            (await LocalCluster.RunAsync(script, "up")).EnsureSuccess("cluster.sh up");
            await Eventually.HoldsAsync(async () => await NamespaceGoneAsync(), TimeSpan.FromSeconds(60), "the fresh control plane answering, without the namespace");

            // A fresh cluster: the CRDs and the namespace, then the bundle.
            await ClusterCrds.ReinstallAsync();
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Ns } });
            var restored = await OperatorCli.RunAsync("restore", "--in", bundle, "--identity", key + ".key");
            Assert.True(restored.ExitCode == 0, restored.Output);
            output.WriteLine(restored.Output);

            var createKeysBefore = seed.Kms.CallCount("CreateKey");
            await seed.StartOperatorAsync();
            await seed.RunProxyAsync();
            await seed.WaitReadyAsync(TimeSpan.FromSeconds(120));
            await seed.WarmUpAsync(); // a fresh (Debug, JIT-cold) proxy; only KMS's 250 ms timeout is retried, twice at most

            Assert.Equal(keyId, await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"));
            Assert.Equal(createKeysBefore, seed.Kms.CallCount("CreateKey"));
            Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        }
        finally
        {
            TemporaryDirectory.TryDelete(files);
        }
    }

    private async Task<bool> NamespaceGoneAsync()
    {
        try
        {
            await Client.CoreV1.ReadNamespaceAsync(Ns);
            return false;
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
