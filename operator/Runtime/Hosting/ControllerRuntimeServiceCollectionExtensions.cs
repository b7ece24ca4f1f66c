using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Controllers;
using Xks.Operator.Runtime.Hosting;
using Xks.Operator.Runtime.Informers;

namespace Microsoft.Extensions.DependencyInjection;

public static class ControllerRuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the controller runtime: <see cref="ControllerRuntimeOptions"/>, <see cref="ControllerRuntimeMetrics"/>,
    /// the shared <see cref="InformerFactory"/>, the <see cref="ControllerManager"/> and the hosted service that runs it.
    /// Needs an <see cref="IKubernetes"/> registration. Add controllers on the returned builder; map the probes and
    /// metrics with <c>app.MapXksControllerRuntime()</c>. See <see cref="ControllerManager"/> for a full example.
    /// </summary>
    public static ControllerRuntimeBuilder AddXksControllerRuntime(this IServiceCollection services, Action<ControllerRuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new ControllerRuntimeOptions();
        configure?.Invoke(options);
        options.LeaderElection.Validate();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.TryAddSingleton(_ => new ControllerRuntimeMetrics());
        services.TryAddSingleton(sp => new InformerFactory(
            sp.GetRequiredService<IKubernetes>(), options.Namespace, options.Informers,
            sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp =>
        {
            var manager = new ControllerManager(
                sp.GetRequiredService<IKubernetes>(), options, sp.GetRequiredService<InformerFactory>(),
                sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<ControllerRuntimeMetrics>(), sp.GetRequiredService<TimeProvider>());
            foreach (var registration in sp.GetServices<ControllerRegistration>())
            {
                registration.Register(manager, sp);
            }

            return manager;
        });
        services.AddHostedService<ControllerManagerHostedService>();
        return new ControllerRuntimeBuilder(services);
    }
}

/// <summary>Adds controllers to the runtime registered by <c>AddXksControllerRuntime</c>.</summary>
public sealed class ControllerRuntimeBuilder(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    /// <summary>
    /// Adds a controller of <typeparamref name="T"/> reconciled by <typeparamref name="TReconciler"/> (a singleton,
    /// constructed by DI; it may inject <see cref="InformerFactory"/> and <see cref="IKubernetes"/>);
    /// <paramref name="configure"/> declares what else it watches (<c>c =&gt; c.Owns&lt;V1Deployment&gt;()</c>).
    /// </summary>
    public ControllerRuntimeBuilder AddController<T, TReconciler>(Action<Controller<T>>? configure = null, string? name = null, ControllerOptions? options = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TReconciler : class, IReconciler<T>
    {
        Services.TryAddSingleton<TReconciler>();
        Services.AddSingleton(new ControllerRegistration((manager, sp) =>
        {
            var controller = manager.AddController(sp.GetRequiredService<TReconciler>(), name, options);
            configure?.Invoke(controller);
        }));
        return this;
    }

    /// <summary>
    /// Adds a controller of <typeparamref name="T"/> reconciled by <typeparamref name="TReconciler"/>, whose watches
    /// are declared by the reconciler itself (<see cref="IControllerSetup{T}.Setup"/>).
    /// </summary>
    public ControllerRuntimeBuilder AddReconciler<T, TReconciler>(string? name = null, ControllerOptions? options = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TReconciler : class, IReconciler<T>, IControllerSetup<T>
    {
        Services.TryAddSingleton<TReconciler>();
        Services.AddSingleton(new ControllerRegistration((manager, sp) =>
            TReconciler.Setup(manager.AddController(sp.GetRequiredService<TReconciler>(), name, options), sp)));
        return this;
    }
}

/// <summary>A deferred <see cref="ControllerManager.AddController{T}"/> call, run when the manager is built.</summary>
internal sealed class ControllerRegistration(Action<ControllerManager, IServiceProvider> register)
{
    public void Register(ControllerManager manager, IServiceProvider services) => register(manager, services);
}
