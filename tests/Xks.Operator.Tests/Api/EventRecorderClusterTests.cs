using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xks.Testing;

namespace Xks.Operator.Api.Tests;

[Trait("Category", "Cluster")]
public sealed class EventRecorderClusterTests
{
    [Fact]
    public async Task Record_SameReasonAndMessageTwice_WritesOneEventUntilTheRepeatIntervalPassed()
    {
        var cluster = LocalCluster.Instance;
        var ns = await cluster.CreateNamespaceAsync("events");
        try
        {
            var regarding = await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "subject" } }, ns);
            regarding.ApiVersion = "v1";
            regarding.Kind = "ConfigMap";
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var recorder = new EventRecorder(cluster.Client, clock, NullLogger<EventRecorder>.Instance) { Instance = "test-pod" };

            await recorder.NormalAsync(regarding, "Created", "Created Deployment d", CancellationToken.None);
            await recorder.NormalAsync(regarding, "Created", "Created Deployment d", CancellationToken.None);
            await recorder.WarningAsync(regarding, "ProxyUnavailable", "0/2 proxy replicas available", CancellationToken.None);
            clock.Advance(EventRecorder.RepeatInterval);
            await recorder.NormalAsync(regarding, "Created", "Created Deployment d", CancellationToken.None);

            var events = (await cluster.Client.CoreV1.ListNamespacedEventAsync(ns)).Items;
            Assert.Equal(2, events.Count(e => e.Reason == "Created"));
            var warning = Assert.Single(events, e => e.Reason == "ProxyUnavailable");
            Assert.Equal("Warning", warning.Type);
            Assert.Equal(("ConfigMap", "subject", regarding.Metadata.Uid), (warning.InvolvedObject.Kind, warning.InvolvedObject.Name, warning.InvolvedObject.Uid));
            Assert.Equal(("xks-operator", "test-pod"), (warning.Source.Component, warning.ReportingInstance));

            // kubectl describe shows them.
            var describe = (await cluster.KubectlAsync($"describe configmap subject -n {ns}")).EnsureSuccess("kubectl describe");
            Assert.Contains("0/2 proxy replicas available", describe.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            await cluster.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }
}
