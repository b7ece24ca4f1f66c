using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xks.Operator.Api;
using Xks.Operator.Controllers;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Resources;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Informers;
using Xks.Operator.Support.Tests;
using Xks.Testing;

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

    [Fact]
    public async Task AddXksOperator_UsersSecrets_CachedWithoutDataOrAnnotations()
    {
        const string Value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(Client);
        builder.Services.AddXksOperator(new OperatorOptions { Namespace = Ns, LeaderElect = false }, new OperatorEnvironment("in-process-test", "v1beta1"));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // As `kubectl apply` leaves it: the data twice, once in the last-applied annotation.
            await ApplyAsync($"""
                apiVersion: v1
                kind: Secret
                metadata:
                  name: aws-credentials
                stringData:
                  accessKeyId: AKIAIOSFODNN7EXAMPLE
                  secretAccessKey: {Value}
                """);
            var informer = UserSecrets.Informer(host.Services.GetRequiredService<InformerFactory>());
            V1Secret? cached = null;
            await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(Ns, "aws-credentials"), out cached), Timeout, "the Secret in the cache");

            Assert.Null(cached!.Data);
            Assert.Null(cached.StringData);
            Assert.Null(cached.Metadata.Annotations);
            Assert.False(string.IsNullOrEmpty(cached.Metadata.ResourceVersion));
            Assert.DoesNotContain(Value, KubernetesJson.Serialize(cached), StringComparison.Ordinal);
            var stored = await Client.CoreV1.ReadNamespacedSecretAsync("aws-credentials", Ns);
            Assert.Contains("kubectl.kubernetes.io/last-applied-configuration", stored.Metadata.Annotations.Keys);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
