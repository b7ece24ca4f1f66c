using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.SecurityToken.Model;
using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Controllers;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Controllers;

/// <summary>
/// Verifies one CspAccount: builds its AWS session (<see cref="AwsClients"/>: the Secret's keys or the SDK default
/// chain, the assumed role, region and endpoint) and calls sts:GetCallerIdentity through it. Ready True/Verified
/// with status.accountId, or False with the reason of <see cref="AwsErrors"/> (CredentialsSecretNotFound,
/// CredentialsSecretInvalid, InvalidCredentials, AccessDenied, EndpointUnreachable, Throttled, InvalidSpec). Status
/// is written through /status only when it changed; an Event marks every change of Ready. Verified again every
/// <see cref="VerifiedRecheck"/>, on every spec change and whenever the referenced Secret changes (the Secret watch
/// maps it here through <see cref="AccountsUsingSecret"/>); while failing, with backoff from 5 s to 5 minutes.
/// Never writes the spec; needs no finalizer (it creates nothing).
/// </summary>
internal sealed partial class CspAccountController(
    ReadyReporter ready,
    AwsClients aws,
    AccessKeyRotation rotation,
    TimeProvider timeProvider,
    ILogger<CspAccountController> logger) : IReconciler<V1Alpha1CspAccount>, IControllerSetup<V1Alpha1CspAccount>
{
    /// <summary>How often a verified account is verified again.</summary>
    public static readonly TimeSpan VerifiedRecheck = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(5);

    /// <summary>A CspAccount is verified again whenever the Secret its secretRef names changes.</summary>
    public static void Setup(Controller<V1Alpha1CspAccount> accounts, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(services);
        accounts.Watches(UserSecrets.Informer(services.GetRequiredService<InformerFactory>()), secret => AccountsUsingSecret(accounts.Informer.List, secret));
    }

    /// <summary>The CspAccounts (in the Secret's namespace, source Secret) whose secretRef names <paramref name="secret"/>.</summary>
    /// <param name="accountsIn">The cached CspAccounts of a namespace.</param>
    /// <param name="secret">The Secret that changed.</param>
    public static IEnumerable<ResourceKey> AccountsUsingSecret(Func<string, IEnumerable<V1Alpha1CspAccount>> accountsIn, V1Secret secret)
    {
        ArgumentNullException.ThrowIfNull(accountsIn);
        ArgumentNullException.ThrowIfNull(secret);
        return UsingSecret(accountsIn(secret.Metadata?.NamespaceProperty ?? ""), a => a.Spec, secret);
    }

    /// <summary>Of <paramref name="accounts"/> (all read their Secrets where <paramref name="secret"/> is), those whose secretRef names it.</summary>
    internal static IEnumerable<ResourceKey> UsingSecret<TAccount>(IEnumerable<TAccount> accounts, Func<TAccount, V1Alpha1CspAccountSpec?> spec, V1Secret secret)
        where TAccount : IKubernetesObject<V1ObjectMeta>
    {
        var name = secret.Metadata?.Name;
        return accounts
            .Where(a => spec(a)?.Credentials is { Source: V1Alpha1CredentialsSource.Secret, SecretRef: { } reference } && reference.Name == name)
            .Select(a => ResourceKey.From(a))
            .ToList();
    }

    public Task<ReconcileResult> ReconcileAsync(V1Alpha1CspAccount account, CancellationToken cancellationToken) =>
        VerifyAsync(ready, aws, rotation, timeProvider, logger, account, AwsAccount.Of(account), cancellationToken);

    /// <summary>
    /// Verifies <paramref name="account"/> (declared by <paramref name="resource"/>, a CspAccount or ClusterCspAccount):
    /// sts:GetCallerIdentity through its session; writes Ready and status.accountId; then, when verified and
    /// spec.credentials.accessKeyRotation is set, a pass of the access-key rotation (<see cref="AccessKeyRotation"/>);
    /// says when to verify (or rotate) again.
    /// </summary>
    internal static async Task<ReconcileResult> VerifyAsync<TResource>(
        ReadyReporter ready, AwsClients aws, AccessKeyRotation rotation, TimeProvider timeProvider, ILogger logger, TResource resource, AwsAccount account, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<V1Alpha1CspAccountStatus>
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(account);
        var status = CustomResourceWriter.CopyOf(resource.Status);
        status.ObservedGeneration = resource.Metadata.Generation;

        var verified = false;
        try
        {
            var session = await aws.ForAccountAsync(account, null, cancellationToken).ConfigureAwait(false);
            var identity = await session.CallStsAsync(
                "GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), cancellationToken).ConfigureAwait(false);
            status.AccountId = identity.Account;
            ready.Set(resource, status, ConditionTypes.Ready, ConditionStatus.True, Reasons.Verified, $"AWS account {identity.Account} in {session.Region}: credentials verified as {identity.Arn}");
            verified = true;
        }
        catch (Exception ex) when (IsAwsFailure(ex, cancellationToken))
        {
            var (reason, message) = AwsErrors.Describe(ex);
            ready.Set(resource, status, ConditionTypes.Ready, ConditionStatus.False, reason, message);
            if (reason == Reasons.InvalidSpec)
            {
                Log.InvalidSpec(logger, account.Description, message);
            }
        }

        // Every change of Ready is an Event: Normal when verified, Warning when not.
        await ready.WriteAsync(resource, status, cancellationToken, warnWhenNotReady: true).ConfigureAwait(false);
        var since = Conditions.Get(status.Conditions, ConditionTypes.Ready)!.LastTransitionTime;
        var next = NextVerification(verified, timeProvider.GetUtcNow().UtcDateTime - since);
        if (verified && await rotation.RotateAsync(resource, account, status, cancellationToken).ConfigureAwait(false) is { } rotateAfter && rotateAfter < next)
        {
            next = rotateAfter;
        }

        return ReconcileResult.After(next);
    }

    /// <summary>When to verify again: a verified account after <see cref="VerifiedRecheck"/>, a failing one after <see cref="RetryDelay"/>.</summary>
    public static TimeSpan NextVerification(bool verified, TimeSpan failingFor) => verified ? VerifiedRecheck : RetryDelay(failingFor);

    /// <summary>
    /// When to verify a failing account again: as long again as it has been failing (from Ready's last transition), at
    /// least 5 s and at most 5 minutes — a doubling backoff kept in the status, not in the operator's memory.
    /// </summary>
    public static TimeSpan RetryDelay(TimeSpan failingFor) =>
        failingFor < FirstRetry ? FirstRetry : failingFor > MaxRetry ? MaxRetry : failingFor;

    /// <summary>What verifying an account can run into; anything else is a fault for the runtime's backoff.</summary>
    internal static bool IsAwsFailure(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => false,
        AwsAccountException or AmazonServiceException or AmazonClientException or HttpRequestException or SocketException
            or TimeoutException or TaskCanceledException => true,
        _ => false,
    };

}
