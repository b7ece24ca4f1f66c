namespace Xks.Operator.Hosting;

/// <summary>What the operator learns about its own pod and its API server before the controllers start.</summary>
/// <param name="PodName">This replica's name (Events' reporting instance, the leader-election identity).</param>
/// <param name="PodDisruptionBudgetVersion">"v1" from Kubernetes 1.21, "v1beta1" before: the policy version to watch.</param>
public sealed record OperatorEnvironment(string PodName, string PodDisruptionBudgetVersion);
