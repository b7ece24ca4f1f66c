using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xks.Operator.Controllers;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Resources;
using Xks.Operator.Support.Tests;

namespace Xks.Operator.Hosting.Tests;

/// <summary>
/// The operator hosted in the test's own process with <c>AddXksOperator</c> (what Program.cs does, minus the HTTP
/// endpoints), against the real control plane: no child process, the same wiring.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class InProcessOperatorClusterTests() : OperatorClusterTest("inproc")
{
    [Fact]
    public async Task AddXksOperator_HostedInTheTestProcess_ReconcilesTheVaultSample()
    {
        var policy = await Client.Policy.GetAPIGroupAsync();
        var pdbVersion = ProxyPodDisruptionBudgetBuilder.SelectApiVersion(policy.Versions.Select(v => v.GroupVersion)).Split('/')[1];
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(Client);
        builder.Services.AddXksOperator(new OperatorOptions { Namespace = Ns, LeaderElect = false }, new OperatorEnvironment("in-process-test", pdbVersion));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            await ApplyAsync(await File.ReadAllTextAsync(Path.Combine(Xks.Testing.LocalCluster.RepositoryRoot, "config", "samples", "xks.dev_v1alpha1_vault.yaml")));

            var vault = await WaitForVaultAsync("xks", v => v.Status?.ObservedGeneration == 1 && Conditions.Get(v.Status.Conditions, ConditionTypes.ProxyAvailable) is not null);
            var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("xks-proxy", Ns);
            var owner = Assert.Single(deployment.Metadata.OwnerReferences, o => o.Controller == true);
            Assert.Equal(vault.Metadata.Uid, owner.Uid);
            Assert.Equal(2, deployment.Spec.Replicas);
            Assert.Contains(VaultController.Finalizer, vault.Metadata.Finalizers);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
