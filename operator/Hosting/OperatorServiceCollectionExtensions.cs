using k8s;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Controllers;
using Xks.Operator.Entities;
using Xks.Operator.Hosting;
using Xks.Operator.Hsm;
using Xks.Operator.Options;
using Xks.Operator.Runtime;

namespace Microsoft.Extensions.DependencyInjection;

public static class OperatorServiceCollectionExtensions
{
    /// <summary>
    /// The whole operator as services of a host: the controller runtime with the four reconcilers (each declares its
    /// own watches), the AWS clients, the HSM sessions, the API writers and the Event recorder. Needs an
    /// <see cref="IKubernetes"/> registration; map the probes and metrics with <c>app.MapXksControllerRuntime()</c>.
    /// Program.cs hosts it in the operator's process; a test can host it in its own.
    /// </summary>
    public static IServiceCollection AddXksOperator(this IServiceCollection services, OperatorOptions options, OperatorEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        services.AddSingleton(options);
        services.AddSingleton(environment);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ServerSideApply>();
        services.AddSingleton<CustomResourceWriter>();
        services.AddSingleton<ReadyReporter>();
        services.AddSingleton<AwsClients>();
        services.AddSingleton<AccessKeyRotation>();
        // One PKCS#11 module per library path and one logged-in session per token for the whole process (disposed at shutdown).
        services.AddSingleton(sp => new Pkcs11HsmKeys(sp.GetRequiredService<ILogger<Pkcs11HsmKeys>>(), options.VaultAllowList()));
        services.AddSingleton<IHsmKeys>(sp => sp.GetRequiredService<Pkcs11HsmKeys>());
        services.AddSingleton(sp => new EventRecorder(
            sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EventRecorder>>())
        {
            Instance = environment.PodName,
        });

        var controllers = services
            .AddXksControllerRuntime(runtime =>
            {
                runtime.Namespace = options.Namespace;
                runtime.Workers = options.Workers;
                runtime.ResyncPeriod = options.ResyncPeriod;
                runtime.LeaderElection.Enabled = options.LeaderElect;
                runtime.LeaderElection.Namespace = options.LeaderElectionNamespace;
                runtime.LeaderElection.Identity = $"{environment.PodName}_{Guid.NewGuid():N}";
            })
            .AddReconciler<V1Alpha1Vault, VaultController>()
            .AddReconciler<V1Alpha1CspAccount, CspAccountController>()
            .AddReconciler<V1Alpha1KeySet, KeySetController>()
            .AddReconciler<V1Alpha1CloudKey, CloudKeyController>();
        if (options.ServesClusterKinds)
        {
            // Cluster-scoped kinds by default only for an operator that watches every namespace (a namespaced install may not read them).
            controllers.AddReconciler<V1Alpha1ClusterCspAccount, ClusterCspAccountController>();
        }

        // The resources' conditions as gauges, from the shared informers (subscribed before the manager runs them).
        services.AddSingleton(sp => new ResourceConditionMetrics(sp.GetRequiredService<ControllerRuntimeMetrics>().Registry));
        services.AddSingleton(new ControllerRegistration((manager, sp) =>
        {
            var metrics = sp.GetRequiredService<ResourceConditionMetrics>();
            metrics.Track(manager.Informers.GetInformer<V1Alpha1Vault>());
            metrics.Track(manager.Informers.GetInformer<V1Alpha1CspAccount>());
            metrics.Track(manager.Informers.GetInformer<V1Alpha1KeySet>());
            metrics.Track(manager.Informers.GetInformer<V1Alpha1CloudKey>());
            if (options.ServesClusterKinds)
            {
                metrics.Track(manager.Informers.GetInformer<V1Alpha1ClusterCspAccount>());
            }
        }));

        return services;
    }
}
