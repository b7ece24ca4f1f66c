using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xks.Operator.Runtime.Controllers;
using Xks.Testing;

namespace Xks.Operator.Runtime.Hosting.Tests;

/// <summary>The manager as the operator wires it, against the real local control plane (ConfigMaps owning Secrets).</summary>
[Trait("Category", "Cluster")]
public sealed class ControllerManagerTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private readonly LocalCluster _cluster = LocalCluster.Instance;
    private string _ns = null!;

    private IKubernetes Client => _cluster.Client;

    public async Task InitializeAsync() => _ns = await _cluster.CreateNamespaceAsync("rt-mgr");

    [Fact]
    public async Task AddXksControllerRuntime_InAWebApp_ReconcilesOwnersAndServesProbesAndMetrics()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Client);
        builder.Services
            .AddXksControllerRuntime(runtime =>
            {
                runtime.Namespace = _ns;
                runtime.Workers = 2;
                runtime.LeaderElection.Enabled = false;
            })
            .AddController<V1ConfigMap, RecordingReconciler>(c => c.Owns<V1Secret>());
        await using var app = builder.Build();
        app.MapXksControllerRuntime();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        var reconciler = app.Services.GetRequiredService<RecordingReconciler>();

        var owner = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "owner" } }, _ns);
        await Eventually.HoldsAsync(() => reconciler.Count("owner") == 1, Within, "owner reconciled");
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = "child",
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata.Uid, Controller = true }],
            },
        }, _ns);
        await Eventually.HoldsAsync(() => reconciler.Count("owner") == 2, Within, "owner reconciled after its child appeared");

        var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(reconciler.Total, Sample(metrics, "xks_operator_reconcile_total{controller=\"configmap\",result=\"success\"}"));
        Assert.Equal(0, Sample(metrics, "xks_operator_reconcile_total{controller=\"configmap\",result=\"conflict\"}"));
        Assert.Equal(0, Sample(metrics, "xks_operator_reconcile_errors_total{controller=\"configmap\"}"));
        Assert.Equal(reconciler.Total, Sample(metrics, "xks_operator_reconcile_duration_seconds_count{controller=\"configmap\"}"));
        Assert.Equal(0, Sample(metrics, "xks_operator_workqueue_depth{controller=\"configmap\"}"));
        Assert.Equal(1, Sample(metrics, "xks_operator_leader"));

        var manager = app.Services.GetRequiredService<ControllerManager>();
        Assert.True(manager.IsLeader);
        Assert.Equal(2, manager.Informers.Informers.Count);
        await app.StopAsync();
        Assert.False(manager.IsLeader);
    }

    [Fact]
    public async Task TwoManagers_OnlyTheLeaderReconciles_StandbyTakesOverWhenItStops()
    {
        var a = new Replica("a", Client, _ns);
        var b = new Replica("b", Client, _ns);
        try
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "first" } }, _ns);
            await Eventually.HoldsAsync(() => a.Reconciler.Count("first") + b.Reconciler.Count("first") >= 1, Within, "first reconciled");
            await Task.Delay(1000);
            var (leader, standby) = a.Manager.IsLeader ? (a, b) : (b, a);
            Assert.True(leader.Manager.IsLeader);
            Assert.False(standby.Manager.IsLeader);
            Assert.Equal(0, standby.Reconciler.Total);
            Assert.True(standby.Manager.IsReady, "a standby is ready");
            Assert.Equal("standby", standby.Manager.ReadinessDetail);
            Assert.True(standby.Manager.Informers.HasSynced, "the standby's cache is warm");

            await leader.StopAsync();
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "second" } }, _ns);

            await Eventually.HoldsAsync(() => standby.Reconciler.Count("second") >= 1 && standby.Reconciler.Count("first") >= 1, Within, "the new leader reconciles everything");
            Assert.True(standby.Manager.IsLeader);
            Assert.Equal(0, leader.Reconciler.Count("second"));
        }
        finally
        {
            await a.StopAsync();
            await b.StopAsync();
        }
    }

    [Fact]
    public void ReadinessDetail_NotStarted_NotReady()
    {
        var manager = new ControllerManager(Client, new ControllerRuntimeOptions { Namespace = _ns });
        manager.AddController(new RecordingReconciler());

        Assert.False(manager.IsReady);
        Assert.True(manager.IsHealthy);
        Assert.Equal("not started", manager.ReadinessDetail);
        Assert.Throws<InvalidOperationException>(() => manager.AddController(new RecordingReconciler()));
    }

    private static double Sample(string exposition, string series)
    {
        var line = exposition.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"{series} not exported:\n{exposition}");
        return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Client.CoreV1.DeleteNamespaceAsync(_ns);
        }
        catch (HttpOperationException)
        {
        }
    }

    private sealed class Replica
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _run;

        public Replica(string identity, IKubernetes client, string ns)
        {
            var options = new ControllerRuntimeOptions { Namespace = ns };
            options.LeaderElection.Namespace = ns;
            options.LeaderElection.Identity = identity;
            options.LeaderElection.LeaseDuration = TimeSpan.FromSeconds(3);
            options.LeaderElection.RenewDeadline = TimeSpan.FromSeconds(2);
            options.LeaderElection.RetryPeriod = TimeSpan.FromMilliseconds(500);
            Manager = new ControllerManager(client, options);
            Manager.AddController(Reconciler);
            _run = Manager.RunAsync(_stop.Token);
        }

        public ControllerManager Manager { get; }

        public RecordingReconciler Reconciler { get; } = new();

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _run.WaitAsync(Within);
        }
    }

    /// <summary>Counts reconciles per name.</summary>
    public sealed class RecordingReconciler : IReconciler<V1ConfigMap>
    {
        private readonly ConcurrentDictionary<string, int> _counts = new();

        public int Total => _counts.Values.Sum();

        public int Count(string name) => _counts.GetValueOrDefault(name);

        public Task<ReconcileResult> ReconcileAsync(V1ConfigMap resource, CancellationToken cancellationToken)
        {
            _counts.AddOrUpdate(resource.Metadata.Name, 1, (_, n) => n + 1);
            return Task.FromResult(ReconcileResult.Done);
        }
    }
}
