using k8s;
using k8s.Models;

namespace Xks.Operator.Runtime.Controllers;

/// <summary>
/// Brings the world in line with one object of <typeparamref name="T"/>. Level-triggered: called with the object as
/// currently cached (a private copy — mutate it freely), whatever event caused the call, never twice at once for the
/// same object, and not at all once the object is gone from the cache (children are garbage-collected through their
/// owner references; use a finalizer for anything else).
/// <para>Return <see cref="ReconcileResult.Done"/>, or <see cref="ReconcileResult.After"/> to look again later
/// (drift checks, waiting for something outside the cluster). Throw to retry with per-object exponential backoff;
/// a 409 Conflict is retried the same way but not counted as an error.</para>
/// </summary>
public interface IReconciler<in T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    Task<ReconcileResult> ReconcileAsync(T resource, CancellationToken cancellationToken);
}

/// <summary>The outcome of a successful reconcile: when (if at all) to reconcile again without an event.</summary>
public readonly record struct ReconcileResult(TimeSpan? RequeueAfter = null)
{
    /// <summary>Converged; wait for the next event or resync.</summary>
    public static ReconcileResult Done => default;

    /// <summary>Reconcile again after <paramref name="delay"/> (resets the failure backoff like any success).</summary>
    public static ReconcileResult After(TimeSpan delay) => new(delay);
}
