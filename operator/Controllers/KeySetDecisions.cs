using Amazon.KeyManagementService;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>What the KeySet does to its custom key store in this pass (at most one mutating KMS call).</summary>
public enum KeyStoreAction
{
    /// <summary>Nothing to change in KMS.</summary>
    None,

    /// <summary>The endpoint, path or connectivity must change, and only a disconnected store can: disconnect first.</summary>
    DisconnectToUpdate,

    /// <summary>UpdateCustomKeyStore with the Vault's endpoint, the KeySet's path, connectivity and current credential.</summary>
    Update,

    /// <summary>The connection FAILED: disconnect, so that the next pass connects again.</summary>
    DisconnectAfterFailure,

    /// <summary>ConnectCustomKeyStore.</summary>
    Connect,
}

/// <summary>When the KeySet is looked at again after this pass.</summary>
public enum KeySetRequeue
{
    /// <summary>Soon (a connection or update in progress).</summary>
    Poll,

    /// <summary>After the pause between attempts to connect a store whose connection failed.</summary>
    FailedRetry,

    /// <summary>At the next rotation step or drift check: the store is connected.</summary>
    Resync,
}

/// <summary>The store as described by KMS this pass, and what the spec and the Vault want of it.</summary>
/// <param name="StoreId">The custom key store's ID.</param>
/// <param name="ConnectionState">Its ConnectionState (CONNECTED, CONNECTING, DISCONNECTED, DISCONNECTING, FAILED).</param>
/// <param name="StoreErrorCode">Its ConnectionErrorCode, when KMS gives one.</param>
/// <param name="LastErrorCode">The error code in the KeySet's status from earlier passes.</param>
/// <param name="NeedsEndpointUpdate">Its endpoint, path or connectivity differ from the spec's and the Vault's.</param>
/// <param name="Blocked">spec.blocked.</param>
/// <param name="Endpoint">The Vault's endpoint followed by the KeySet's path, as shown in messages.</param>
public sealed record KeyStoreObservation(
    string StoreId,
    string? ConnectionState,
    string? StoreErrorCode,
    string? LastErrorCode,
    bool NeedsEndpointUpdate,
    bool Blocked,
    string Endpoint);

/// <summary>The decided pass: one action, the status fields and conditions to write, and when to look again.</summary>
/// <param name="Action">The KMS call to make.</param>
/// <param name="ConnectionState">The connection state to record (CONNECTING once a connect is asked for).</param>
/// <param name="ErrorCode">The connection error code to record: the last one stays visible until the store connects.</param>
/// <param name="Connected">The Connected condition, or null to leave it as it is.</param>
/// <param name="Ready">The Ready condition.</param>
/// <param name="Requeue">When to look again.</param>
public sealed record KeyStorePlan(
    KeyStoreAction Action,
    string? ConnectionState,
    string? ErrorCode,
    ConditionVerdict? Connected,
    ConditionVerdict Ready,
    KeySetRequeue Requeue);

/// <summary>
/// The KeySet's pure decisions: what to do with its custom key store given how KMS describes it (update, connect,
/// reconnect after a failure, nothing), the conditions that follow, and the refusal to take a store that is not ours.
/// </summary>
internal static class KeySetDecisions
{
    /// <summary>The one step for the store this pass, with the status and conditions that go with it.</summary>
    public static KeyStorePlan Plan(KeyStoreObservation store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var state = store.ConnectionState;
        // The last connection error stays visible while the store is retried, until it connects.
        var errorCode = state == ConnectionStateType.FAILED.Value ? store.StoreErrorCode ?? "FAILED"
            : state == ConnectionStateType.CONNECTED.Value ? null
            : store.LastErrorCode;

        if (store.NeedsEndpointUpdate)
        {
            // Only a disconnected store can change.
            return state != ConnectionStateType.DISCONNECTED.Value
                ? new(KeyStoreAction.DisconnectToUpdate, state, errorCode, null,
                    NotReady(Reasons.Disconnecting, "disconnecting the key store to update its endpoint, path or connectivity"), KeySetRequeue.Poll)
                : new(KeyStoreAction.Update, state, errorCode, null, NotReady(Reasons.Connecting, "key store updated; connecting"), KeySetRequeue.Poll);
        }

        if (state == ConnectionStateType.CONNECTED.Value)
        {
            var message = store.Blocked
                ? $"custom key store {store.StoreId} is connected, and blocked: the proxy refuses every request for it"
                : $"custom key store {store.StoreId} is connected to {store.Endpoint}";
            var connected = new ConditionVerdict(ConditionStatus.True, Reasons.Connected, message);
            return new(KeyStoreAction.None, state, errorCode, connected, connected, KeySetRequeue.Resync);
        }

        if (state == ConnectionStateType.FAILED.Value)
        {
            var code = errorCode!;
            return new(KeyStoreAction.DisconnectAfterFailure, state, errorCode,
                new(ConditionStatus.False, code, $"connection failed: {code}"),
                NotReady(code, $"custom key store {store.StoreId} failed to connect: {code} ({DescribeConnectionError(code)}); disconnected, retrying"),
                KeySetRequeue.FailedRetry);
        }

        var action = state == ConnectionStateType.DISCONNECTED.Value ? KeyStoreAction.Connect : KeyStoreAction.None;
        var after = action == KeyStoreAction.Connect ? ConnectionStateType.CONNECTING.Value : state;
        return errorCode is { } lastError
            ? new(action, after, errorCode,
                new(ConditionStatus.False, lastError, $"connection state {after}, retrying after {lastError}"),
                NotReady(lastError, $"custom key store {store.StoreId} is {after}: retrying after {lastError} ({DescribeConnectionError(lastError)})"),
                KeySetRequeue.Poll)
            : new(action, after, errorCode,
                new(ConditionStatus.False, Reasons.Connecting, $"connection state {after}"),
                NotReady(Reasons.Connecting, $"custom key store {store.StoreId} is {after}"),
                KeySetRequeue.Poll);
    }

    /// <summary>
    /// Why a store found under the KeySet's store name may not be taken, or null when it is ours. Key stores carry no
    /// tags: the name (unique per account and region) and our path identify what an earlier attempt made, and a store
    /// of that name serving another path belongs to someone else.
    /// </summary>
    public static string? StoreRefusal(string name, string storeId, string? storePath, string ourPath) =>
        storePath == ourPath
            ? null
            : $"a custom key store named {name} ({storeId}) already exists with path {storePath}; set spec.externalKeyStore.name to another name, or spec.adopt to take it over";

    /// <summary>
    /// Whether a KeySet claims a credential Secret it does not own: only one a restore wrote for it — no controller owner,
    /// <see cref="Resources.KeySetCredentialSecret.RestoredForAnnotation"/> naming this KeySet — and only while the KeySet
    /// adopts a key store (spec.adopt, as a restore writes it), whose ownership proof then requires the claimed credential
    /// to be the one KMS holds: a credential planted by someone who never had it proves nothing and adopts nothing.
    /// Anything else is a Conflict.
    /// </summary>
    public static bool ClaimsRestoredCredential(IEnumerable<V1OwnerReference>? owners, string? restoredFor, string keySetName, bool adopting) =>
        adopting && !(owners ?? []).Any(o => o.Controller == true) && restoredFor == $"KeySet/{keySetName}";

    /// <summary>
    /// Whether to start a SigV4 credential rotation now: "requested" (the rotate-credential annotation has a value not yet
    /// handled), "scheduled" (credentialRotation.every has passed since the last rotation), or null. Never while a
    /// rotation is in flight: one pending credential at a time.
    /// </summary>
    public static string? RotationStart(bool pending, string? request, string? handledRequest, TimeSpan? every, DateTimeOffset lastRotation, DateTimeOffset now) =>
        pending ? null
        : request is not null && request != handledRequest ? "requested"
        : every is { } interval && now - lastRotation >= interval ? "scheduled"
        : null;

    /// <summary>
    /// With no rotation in flight, when to look at the credential again: at the next scheduled rotation (from the last
    /// one, or a full interval when none is recorded), else after <paramref name="otherwise"/>.
    /// </summary>
    public static TimeSpan NextRotationCheck(TimeSpan? every, DateTimeOffset? lastRotation, DateTimeOffset now, TimeSpan otherwise) =>
        every is { } interval
            ? (lastRotation is { } last ? last + interval - now : interval)
            : otherwise;

    /// <summary>
    /// Why a key store this KeySet found (by status, spec.adopt or its name) is not provably its own, or null when it is:
    /// the store's proxy credential must be one this KeySet generated (its credential Secret's current, pending or previous
    /// access key ID, random and never shown). A name, a path or a status field anyone can write prove nothing, so a store
    /// without that proof is never disconnected, updated or connected — it may be another namespace's.
    /// </summary>
    public static string? StoreOwnershipRefusal(string storeId, string? storeName, string? storeAccessKeyId, IReadOnlyCollection<string> ourAccessKeyIds)
    {
        ArgumentNullException.ThrowIfNull(ourAccessKeyIds);
        return storeAccessKeyId is not null && ourAccessKeyIds.Contains(storeAccessKeyId)
            ? null
            : $"custom key store {storeId} ({storeName ?? "no name"}) authenticates to its proxy with a credential that is not in this KeySet's credential Secret: it is not provably this KeySet's and is left as it is (to take over a store, give the KeySet a store of its own; a store whose credential was changed outside the operator must be set back in AWS)";
    }

    /// <summary>
    /// Why the KeySet must not call KMS about its store while its Vault's serving certificate fails a check KMS would
    /// fail too (CertificateReady=False with a <see cref="Resources.TlsCertificateChecks.Refusals"/> reason), or null.
    /// A certificate still pending from cert-manager is not a refusal: KMS's own health check says what it finds. A
    /// certificate the user supplies (tls.secretName without issuerRef) not yet checked for the Vault's current generation
    /// is waited for too, so the first reconcile never races the check.
    /// </summary>
    public static string? VaultCertificateRefusal(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var certificate = Conditions.Get(vault.Status?.Conditions, ConditionTypes.CertificateReady);
        var supplied = vault.Spec?.Tls is { IssuerRef: null, SecretName: { Length: > 0 } };
        if (supplied && (certificate is null || certificate.ObservedGeneration < vault.Metadata.Generation))
        {
            return $"waiting for Vault {vault.Metadata.Name}'s serving certificate (Secret {vault.Spec!.Tls!.SecretName}) to be checked";
        }

        return certificate is { Status: ConditionStatus.False } && Resources.TlsCertificateChecks.Refusals.Contains(certificate.Reason ?? "")
            ? $"waiting for Vault {vault.Metadata.Name}'s serving certificate, which AWS KMS would refuse ({certificate.Reason}): {certificate.Message}"
            : null;
    }

    /// <summary>What a KMS ConnectionErrorCode means, for messages.</summary>
    public static string DescribeConnectionError(string code) => code switch
    {
        "INVALID_CREDENTIALS" => "the proxy rejected the key store's SigV4 credential",
        "XKS_PROXY_NOT_REACHABLE" => "KMS cannot reach the proxy endpoint",
        "XKS_PROXY_TIMED_OUT" => "the proxy did not answer within KMS's timeout",
        "XKS_PROXY_INVALID_RESPONSE" => "the proxy's answer was not a valid XKS response",
        "XKS_PROXY_INVALID_CONFIGURATION" => "the proxy does not serve the key store's URI path",
        "XKS_PROXY_INVALID_TLS_CONFIGURATION" => "the proxy's TLS certificate is not trusted or does not match the hostname",
        "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND" => "KMS cannot find the VPC endpoint service (spec.externalKeyStore.vpcEndpointServiceName) in the key store's region",
        "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION" => "the VPC endpoint service is misconfigured: its verified private DNS name must be the Vault's hostname, it must allow cks.kms.<region>.amazonaws.com and not require acceptance",
        "INTERNAL_ERROR" => "an internal error in KMS",
        _ => "see the KMS documentation of ConnectionErrorCode",
    };

    private static ConditionVerdict NotReady(string reason, string message) => new(ConditionStatus.False, reason, message);
}
