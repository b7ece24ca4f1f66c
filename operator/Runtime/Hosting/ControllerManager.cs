using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Operator.Runtime.Controllers;
using Xks.Operator.Runtime.Informers;
using Xks.Operator.Runtime.LeaderElection;

namespace Xks.Operator.Runtime.Hosting;

/// <summary>
/// Runs the operator's controllers: the shared informers on every replica (warm caches, readiness), the
/// controllers only on the leader (Lease <c>xks-operator-leader</c>), or at once when leader election is off.
/// <para>Wiring in <c>Program.cs</c> (the hosted service starts it without blocking host start-up):</para>
/// <code>
/// var builder = WebApplication.CreateSlimBuilder(args);
/// builder.Services.AddSingleton&lt;IKubernetes&gt;(new Kubernetes(KubernetesClientConfiguration.BuildDefaultConfig()));
/// builder.Services.AddXksControllerRuntime(options =>
///     {
///         options.Namespace = watchNamespace;                       // null: all namespaces
///         options.Workers = 2;
///         options.ResyncPeriod = TimeSpan.FromMinutes(10);
///         options.LeaderElection.Enabled = leaderElect;
///         options.LeaderElection.Namespace = leaderElectionNamespace; // null: the pod's namespace
///     })
///     .AddController&lt;V1Alpha1Vault, VaultReconciler&gt;(controller => controller
///         .Owns&lt;V1Deployment&gt;()
///         .Owns&lt;V1Service&gt;()
///         .Owns&lt;V1Secret&gt;("app.kubernetes.io/managed-by=xks-operator")
///         .Watches&lt;V1Alpha1KeySet&gt;(keySet =&gt; [new ResourceKey(keySet.Namespace(), keySet.Spec.VaultRef.Name)]));
/// var app = builder.Build();
/// app.MapXksControllerRuntime();                                    // /healthz, /readyz, /metrics
/// await app.RunAsync();
/// </code>
/// A reconciler reads the shared caches by injecting <see cref="InformerFactory"/>
/// (<c>informers.GetInformer&lt;V1Deployment&gt;().TryGet(key, out var deployment)</c>) and writes through
/// <see cref="IKubernetes"/>. Without DI: <c>new ControllerManager(client, options)</c>, <see cref="AddController{T}"/>,
/// <see cref="RunAsync"/>.
/// </summary>
public sealed partial class ControllerManager
{
    private readonly List<IController> _controllers = [];
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private volatile bool _started;
    private volatile bool _leading;
    private volatile bool _faulted;

    public ControllerManager(
        IKubernetes client,
        ControllerRuntimeOptions? options = null,
        InformerFactory? informers = null,
        ILoggerFactory? loggerFactory = null,
        ControllerRuntimeMetrics? metrics = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        Options = options ?? new ControllerRuntimeOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ControllerManager>();
        _timeProvider = timeProvider ?? TimeProvider.System;
        Metrics = metrics ?? new ControllerRuntimeMetrics();
        Informers = informers ?? new InformerFactory(client, Options.Namespace, Options.Informers, _loggerFactory, _timeProvider);
        LeaderElection = Options.LeaderElection.Enabled
            ? new LeaderElectionService(client, Options.LeaderElection, _loggerFactory.CreateLogger<LeaderElectionService>(), Metrics)
            : null;
        Metrics.SetLeader(false);
    }

    public ControllerRuntimeOptions Options { get; }

    /// <summary>The shared informers (caches) of every kind the controllers watch.</summary>
    public InformerFactory Informers { get; }

    public ControllerRuntimeMetrics Metrics { get; }

    /// <summary>The leader election, or <see langword="null"/> when it is off.</summary>
    public LeaderElectionService? LeaderElection { get; }

    public IReadOnlyList<IController> Controllers => _controllers;

    /// <summary>True while the controllers run on this replica.</summary>
    public bool IsLeader => _leading;

    /// <summary>Readiness: every informer synced, or this replica is a standby (not leading, so it serves nothing yet).</summary>
    public bool IsReady => _started && !_faulted && (Informers.HasSynced || (LeaderElection is { IsLeader: false }));

    /// <summary>Liveness: false once the manager failed for good.</summary>
    public bool IsHealthy => !_faulted;

    /// <summary>Why <see cref="IsReady"/> is false (for the probe's body).</summary>
    public string ReadinessDetail =>
        !_started ? "not started"
        : _faulted ? "failed"
        : IsReady ? (LeaderElection is { IsLeader: false } ? "standby" : "ready")
        : "waiting for caches: " + string.Join(", ", Informers.Informers.Where(i => !i.HasSynced).Select(i => i.Type.Kind));

    /// <summary>
    /// Adds a controller of <typeparamref name="T"/> over the shared informer of <typeparamref name="T"/>; chain
    /// <c>Owns&lt;TChild&gt;()</c> / <c>Watches&lt;TOther&gt;(map)</c> on the result. <paramref name="name"/> defaults to
    /// the kind in lower case (the <c>controller</c> label of the metrics).
    /// </summary>
    public Controller<T> AddController<T>(IReconciler<T> reconciler, string? name = null, ControllerOptions? options = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(reconciler);
        if (_started)
        {
            throw new InvalidOperationException("Add controllers before the manager runs.");
        }

        var informer = Informers.GetInformer<T>();
        name ??= informer.Type.Kind.ToLowerInvariant();
        if (_controllers.Any(c => string.Equals(c.Name, name, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"A controller named {name} already exists.");
        }

        options ??= new ControllerOptions { Workers = Options.Workers, ResyncPeriod = Options.ResyncPeriod };
        var controller = new Controller<T>(name, informer, reconciler, options, _loggerFactory.CreateLogger($"Xks.Operator.Controllers.{name}"), Metrics, _timeProvider, Informers);
        _controllers.Add(controller);
        return controller;
    }

    /// <summary>
    /// Runs the informers, and the controllers while leading, until <paramref name="cancellationToken"/> is cancelled.
    /// Returns after every worker and watch has stopped (and the lease was released).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            throw new InvalidOperationException("The manager is already running.");
        }

        _started = true;
        Log.Starting(_logger, _controllers.Count, Options.Namespace ?? "all namespaces",
            LeaderElection is null ? "off" : $"Lease {LeaderElection.Namespace}/{LeaderElection.LeaseName} as {LeaderElection.Identity}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var informers = Informers.RunAsync(stop.Token);
        try
        {
            if (LeaderElection is { } election)
            {
                await election.RunAsync(RunControllersAsync, stop.Token).ConfigureAwait(false);
            }
            else
            {
                Metrics.SetLeader(true);
                await RunControllersAsync(stop.Token).ConfigureAwait(false);
                if (!cancellationToken.IsCancellationRequested)
                {
                    throw new InvalidOperationException("The controllers stopped unexpectedly.");
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _faulted = true;
            Log.Failed(_logger, ex);
            throw;
        }
        finally
        {
            Metrics.SetLeader(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await informers.ConfigureAwait(false);
            Log.Stopped(_logger);
        }
    }

    private async Task RunControllersAsync(CancellationToken cancellationToken)
    {
        _leading = true;
        try
        {
            await Task.WhenAll(_controllers.Select(controller => controller.RunAsync(cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            _leading = false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1300, LogLevel.Information, "Starting {Count} controller(s) watching {Scope}; leader election {LeaderElection}", EventName = "ManagerStarting")]
        public static partial void Starting(ILogger logger, int count, string scope, string leaderElection);

        [LoggerMessage(1301, LogLevel.Critical, "The controller manager failed", EventName = "ManagerFailed")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(1302, LogLevel.Information, "Controller manager stopped", EventName = "ManagerStopped")]
        public static partial void Stopped(ILogger logger);
    }
}
