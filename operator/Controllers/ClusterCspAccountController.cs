using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Controllers;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Controllers;

/// <summary>
/// Verifies one ClusterCspAccount exactly as <see cref="CspAccountController"/> verifies a CspAccount (its session,
/// sts:GetCallerIdentity, Ready and status.accountId, the same recheck and backoff), with its credentials Secret read
/// in the operator's cluster resource namespace. Which namespaces may use it is decided where it is used
/// (<see cref="CspAccountResolver"/>). Registered only when the operator watches all namespaces.
/// </summary>
internal sealed class ClusterCspAccountController(
    ReadyReporter ready,
    AwsClients aws,
    AccessKeyRotation rotation,
    OperatorOptions options,
    TimeProvider timeProvider,
    ILogger<ClusterCspAccountController> logger) : IReconciler<V1Alpha1ClusterCspAccount>, IControllerSetup<V1Alpha1ClusterCspAccount>
{
    /// <summary>A ClusterCspAccount is verified again whenever the Secret its secretRef names (in the cluster resource namespace) changes.</summary>
    public static void Setup(Controller<V1Alpha1ClusterCspAccount> accounts, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(services);
        var clusterResourceNamespace = services.GetRequiredService<OperatorOptions>().ClusterResourceNamespace;
        accounts.Watches(
            UserSecrets.Informer(services.GetRequiredService<InformerFactory>()),
            secret => AccountsUsingSecret(accounts.Informer.List(), clusterResourceNamespace, secret));
    }

    /// <summary>The ClusterCspAccounts whose secretRef names <paramref name="secret"/>, when it is in the cluster resource namespace.</summary>
    public static IEnumerable<ResourceKey> AccountsUsingSecret(IEnumerable<V1Alpha1ClusterCspAccount> accounts, string clusterResourceNamespace, V1Secret secret)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(secret);
        return secret.Metadata?.NamespaceProperty == clusterResourceNamespace
            ? CspAccountController.UsingSecret(accounts, a => a.Spec, secret)
            : [];
    }

    public Task<ReconcileResult> ReconcileAsync(V1Alpha1ClusterCspAccount account, CancellationToken cancellationToken) =>
        CspAccountController.VerifyAsync(ready, aws, rotation, timeProvider, logger, account, AwsAccount.Of(account, options.ClusterResourceNamespace), cancellationToken);
}
