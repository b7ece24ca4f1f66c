using k8s;
using k8s.Models;
using Xks.Operator.Runtime.Support.Tests;

namespace Xks.Operator.Runtime.Informers.Tests;

public sealed class InformerFactoryTests
{
    private static readonly Action<V1ConfigMap> DropData = map => map.Data = null;

    private static InformerFactory Factory() =>
        new(new Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:9" }));

    [Fact]
    public async Task GetInformer_WithTransform_CachesOnlyWhatTheTransformLeaves()
    {
        var api = new InMemoryResourceApi<V1ConfigMap>();
        api.Create(new V1ConfigMap { Metadata = new V1ObjectMeta { NamespaceProperty = "ns", Name = "listed" }, Data = new Dictionary<string, string> { ["secret"] = "listed-value" } });
        var informer = Factory().GetInformer(api, "team=a", transform: DropData);
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(stop.Token);

        api.Create(new V1ConfigMap { Metadata = new V1ObjectMeta { NamespaceProperty = "ns", Name = "watched" }, Data = new Dictionary<string, string> { ["secret"] = "watched-value" } });
        V1ConfigMap? watched = null;
        await Xks.Testing.Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey("ns", "watched"), out watched), TimeSpan.FromSeconds(10), "the watched object");

        Assert.True(informer.TryGet(new ResourceKey("ns", "listed"), out var listed));
        Assert.Null(listed.Data);
        Assert.Null(watched!.Data);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public void GetInformer_SameSelectorWithAnotherTransform_Throws()
    {
        var factory = Factory();
        var api = new InMemoryResourceApi<V1ConfigMap>();
        var first = factory.GetInformer(api, "team=a", transform: DropData);

        Assert.Same(first, factory.GetInformer(api, "team=a", transform: DropData));
        var error = Assert.Throws<InvalidOperationException>(() => factory.GetInformer(api, "team=a"));
        Assert.Contains("shared with another transform", error.Message, StringComparison.Ordinal);
    }
}
