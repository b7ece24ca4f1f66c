using k8s;
using k8s.Models;

namespace Xks.Operator.Runtime.Controllers;

/// <summary>
/// A reconciler that declares, beside itself, what its controller watches (kubebuilder's <c>SetupWithManager</c>):
/// the children it owns and the other kinds whose changes map to objects of <typeparamref name="T"/>. Added with
/// <c>AddReconciler&lt;T, TReconciler&gt;()</c>.
/// </summary>
public interface IControllerSetup<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>Adds the owned and watched kinds to <paramref name="controller"/>; <paramref name="services"/> for their clients.</summary>
    static abstract void Setup(Controller<T> controller, IServiceProvider services);
}
