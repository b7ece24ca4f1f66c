using k8s;
using k8s.Models;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// There is no kubelet (nor scheduler) on the local control plane: the ReplicaSet controller creates Pods that never
/// run. Tests that need a ready Deployment act as the kubelet: they mark those Pods Running and Ready through the
/// pods/status subresource, and the real ReplicaSet and Deployment controllers derive the Deployment's status.
/// </summary>
internal static class Kubelet
{
    /// <summary>Marks every Pod matching <paramref name="labelSelector"/> Running and Ready; returns how many it changed.</summary>
    public static async Task<int> MarkPodsReadyAsync(string @namespace, string labelSelector)
    {
        var client = LocalCluster.Instance.Client;
        var pods = await client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: labelSelector);
        var changed = 0;
        foreach (var pod in pods.Items)
        {
            if (pod.Status?.Phase == "Running" && pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            {
                continue;
            }

            var now = DateTime.UtcNow.AddSeconds(-30);
            var status = new
            {
                status = new
                {
                    phase = "Running",
                    podIP = "10.244.0.10",
                    startTime = now,
                    conditions = new object[]
                    {
                        new { type = "PodScheduled", status = "True", lastTransitionTime = now },
                        new { type = "Initialized", status = "True", lastTransitionTime = now },
                        new { type = "ContainersReady", status = "True", lastTransitionTime = now },
                        new { type = "Ready", status = "True", lastTransitionTime = now },
                    },
                },
            };
            await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), pod.Metadata.Name, @namespace);
            changed++;
        }

        return changed;
    }

    /// <summary>Acts as the kubelet until the Deployment reports <paramref name="replicas"/> available replicas.</summary>
    public static async Task MakeDeploymentAvailableAsync(string @namespace, string deployment, int replicas, TimeSpan within)
    {
        var client = LocalCluster.Instance.Client;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var current = await client.AppsV1.ReadNamespacedDeploymentAsync(deployment, @namespace);
            if ((current.Status?.AvailableReplicas ?? 0) >= replicas)
            {
                return;
            }

            Assert.True(clock.Elapsed < within, $"Deployment {@namespace}/{deployment} not available within {within.TotalSeconds} s: {KubernetesJson.Serialize(current.Status)}");
            var selector = string.Join(',', current.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
            await MarkPodsReadyAsync(@namespace, selector);
            await Task.Delay(200);
        }
    }
}
