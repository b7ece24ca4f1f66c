using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

public class KeySetDecisionsTests
{
    private const string Store = "cks-1234567890abcdef0";

    private static KeyStoreObservation Observed(string? state, string? storeError = null, string? lastError = null, bool update = false, bool blocked = false) =>
        new(Store, state, storeError, lastError, update, blocked, "https://xks.example.com/payments/kms/xks/v1");

    public static TheoryData<string, KeyStoreObservation, KeyStoreAction, string?, string?, string, string, KeySetRequeue> Cases => new()
    {
        { "a connected store needs nothing and is Ready", Observed("CONNECTED"),
            KeyStoreAction.None, "CONNECTED", null, ConditionStatus.True, Reasons.Connected, KeySetRequeue.Resync },
        { "connecting clears a last error", Observed("CONNECTED", lastError: "XKS_PROXY_TIMED_OUT"),
            KeyStoreAction.None, "CONNECTED", null, ConditionStatus.True, Reasons.Connected, KeySetRequeue.Resync },
        { "a disconnected store is connected", Observed("DISCONNECTED"),
            KeyStoreAction.Connect, "CONNECTING", null, ConditionStatus.False, Reasons.Connecting, KeySetRequeue.Poll },
        { "a disconnected store is connected, the last error still shown", Observed("DISCONNECTED", lastError: "INVALID_CREDENTIALS"),
            KeyStoreAction.Connect, "CONNECTING", "INVALID_CREDENTIALS", ConditionStatus.False, "INVALID_CREDENTIALS", KeySetRequeue.Poll },
        { "a connecting store is waited for", Observed("CONNECTING"),
            KeyStoreAction.None, "CONNECTING", null, ConditionStatus.False, Reasons.Connecting, KeySetRequeue.Poll },
        { "a disconnecting store is waited for", Observed("DISCONNECTING"),
            KeyStoreAction.None, "DISCONNECTING", null, ConditionStatus.False, Reasons.Connecting, KeySetRequeue.Poll },
        { "a failed connection is disconnected and retried later, its code the reason", Observed("FAILED", storeError: "XKS_PROXY_NOT_REACHABLE"),
            KeyStoreAction.DisconnectAfterFailure, "FAILED", "XKS_PROXY_NOT_REACHABLE", ConditionStatus.False, "XKS_PROXY_NOT_REACHABLE", KeySetRequeue.FailedRetry },
        { "a failed connection without a code reports FAILED", Observed("FAILED"),
            KeyStoreAction.DisconnectAfterFailure, "FAILED", "FAILED", ConditionStatus.False, "FAILED", KeySetRequeue.FailedRetry },
        { "a new endpoint on a connected store disconnects it first", Observed("CONNECTED", update: true),
            KeyStoreAction.DisconnectToUpdate, "CONNECTED", null, ConditionStatus.False, Reasons.Disconnecting, KeySetRequeue.Poll },
        { "a new endpoint on a failed store disconnects it first", Observed("FAILED", storeError: "XKS_PROXY_INVALID_CONFIGURATION", update: true),
            KeyStoreAction.DisconnectToUpdate, "FAILED", "XKS_PROXY_INVALID_CONFIGURATION", ConditionStatus.False, Reasons.Disconnecting, KeySetRequeue.Poll },
        { "a new endpoint on a disconnected store updates it", Observed("DISCONNECTED", update: true),
            KeyStoreAction.Update, "DISCONNECTED", null, ConditionStatus.False, Reasons.Connecting, KeySetRequeue.Poll },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Plan_Observation_DecidesOneActionStatusAndReady(
        string scenario, KeyStoreObservation observed, KeyStoreAction action, string? state, string? errorCode, string readyStatus, string readyReason, KeySetRequeue requeue)
    {
        var plan = KeySetDecisions.Plan(observed);

        Assert.True(
            (plan.Action, plan.ConnectionState, plan.ErrorCode, plan.Ready.Status, plan.Ready.Reason, plan.Requeue) == (action, state, errorCode, readyStatus, readyReason, requeue),
            $"{scenario}: got {plan}");
    }

    [Theory]
    [InlineData(false, "custom key store cks-1234567890abcdef0 is connected to https://xks.example.com/payments/kms/xks/v1")]
    [InlineData(true, "custom key store cks-1234567890abcdef0 is connected, and blocked: the proxy refuses every request for it")]
    public void Plan_Connected_IsConnectedAndReadyWithTheSameMessage(bool blocked, string message)
    {
        var plan = KeySetDecisions.Plan(Observed("CONNECTED", blocked: blocked));

        Assert.Equal(new ConditionVerdict(ConditionStatus.True, Reasons.Connected, message), plan.Connected);
        Assert.Equal(plan.Connected, plan.Ready);
    }

    [Fact]
    public void Plan_Failed_ExplainsTheCodeInReadyAndConnected()
    {
        var plan = KeySetDecisions.Plan(Observed("FAILED", storeError: "INVALID_CREDENTIALS"));

        Assert.Equal(new ConditionVerdict(ConditionStatus.False, "INVALID_CREDENTIALS", "connection failed: INVALID_CREDENTIALS"), plan.Connected);
        Assert.Equal(
            "custom key store cks-1234567890abcdef0 failed to connect: INVALID_CREDENTIALS (the proxy rejected the key store's SigV4 credential); disconnected, retrying",
            plan.Ready.Message);
    }

    [Fact]
    public void Plan_UpdateSteps_LeaveConnectedAsItIs()
    {
        Assert.Null(KeySetDecisions.Plan(Observed("CONNECTED", update: true)).Connected);
        Assert.Null(KeySetDecisions.Plan(Observed("DISCONNECTED", update: true)).Connected);
    }

    [Theory]
    [InlineData("/payments/kms/xks/v1", null)]
    [InlineData("/ledger/kms/xks/v1", "a custom key store named team-a-payments (cks-9) already exists with path /ledger/kms/xks/v1; set spec.externalKeyStore.name to another name, or spec.adopt to take it over")]
    [InlineData(null, "a custom key store named team-a-payments (cks-9) already exists with path ; set spec.externalKeyStore.name to another name, or spec.adopt to take it over")]
    public void StoreRefusal_StoreOfOurNameOnAnotherPath_IsSomebodyElses(string? storePath, string? refusal) =>
        Assert.Equal(refusal, KeySetDecisions.StoreRefusal("team-a-payments", "cks-9", storePath, "/payments/kms/xks/v1"));

    [Theory]
    [InlineData("INVALID_CREDENTIALS", "the proxy rejected the key store's SigV4 credential")]
    [InlineData("XKS_PROXY_INVALID_TLS_CONFIGURATION", "the proxy's TLS certificate is not trusted or does not match the hostname")]
    [InlineData("XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", "KMS cannot find the VPC endpoint service (spec.externalKeyStore.vpcEndpointServiceName) in the key store's region")]
    [InlineData("XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", "the VPC endpoint service is misconfigured: its verified private DNS name must be the Vault's hostname, it must allow cks.kms.<region>.amazonaws.com and not require acceptance")]
    [InlineData("SOMETHING_NEW", "see the KMS documentation of ConnectionErrorCode")]
    public void DescribeConnectionError_Code_IsExplained(string code, string meaning) =>
        Assert.Equal(meaning, KeySetDecisions.DescribeConnectionError(code));

    public static TheoryData<string, V1OwnerReference[]?, string?, bool, bool> RestoredCredentials => new()
    {
        { "written by a restore for this adopting KeySet", null, "KeySet/payments", true, true },
        { "written for this KeySet, but it adopts no store (a planted credential would be used as is)", null, "KeySet/payments", false, false },
        { "unowned but for another KeySet", null, "KeySet/ledger", true, false },
        { "unowned and unmarked (someone's Secret)", null, null, true, false },
        { "marked but controlled by another object", [new V1OwnerReference { Kind = "KeySet", Name = "payments", Uid = "old", Controller = true }], "KeySet/payments", true, false },
        { "marked, with a non-controller owner", [new V1OwnerReference { Kind = "ConfigMap", Name = "x", Uid = "u", Controller = false }], "KeySet/payments", true, true },
        { "the bare name is not the mark", null, "payments", true, false },
    };

    [Theory]
    [MemberData(nameof(RestoredCredentials))]
    public void ClaimsRestoredCredential_OnlyAnUnownedSecretMarkedForThisAdoptingKeySet(string because, V1OwnerReference[]? owners, string? restoredFor, bool adopting, bool expected) =>
        Assert.True(expected == KeySetDecisions.ClaimsRestoredCredential(owners, restoredFor, "payments", adopting), because);

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("True", "CertificateValid", false)]
    [InlineData("True", "CertificateExpiringSoon", false)]
    [InlineData("False", "CertificatePending", false)]
    [InlineData("False", "SecretNotFound", false)]
    [InlineData("False", "CertificateExpired", true)]
    [InlineData("False", "CertificateNotYetValid", true)]
    [InlineData("False", "CertificateHostnameMismatch", true)]
    [InlineData("False", "CertificateKeyMismatch", true)]
    [InlineData("False", "CertificateUntrusted", true)]
    [InlineData("False", "CertificateInvalid", true)]
    public void VaultCertificateRefusal_CertificateReady_WaitsOnlyForWhatKmsWouldRefuse(string? status, string? reason, bool waits)
    {
        var vault = new V1Alpha1Vault
        {
            Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" },
            Status = new V1Alpha1VaultStatus
            {
                Conditions = status is null ? [] : [new V1Alpha1Condition { Type = ConditionTypes.CertificateReady, Status = status, Reason = reason!, Message = "Secret xks-tls: why" }],
            },
        };

        var refusal = KeySetDecisions.VaultCertificateRefusal(vault);

        Assert.Equal(waits, refusal is not null);
        if (waits)
        {
            Assert.Contains($"Vault xks's serving certificate, which AWS KMS would refuse ({reason}): Secret xks-tls: why", refusal, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("a supplied Secret never checked", "own-tls", false, null, null, true)]
    [InlineData("a supplied Secret checked for an older generation", "own-tls", false, "True", 2L, true)]
    [InlineData("a supplied Secret checked for this generation", "own-tls", false, "True", 3L, false)]
    [InlineData("a cert-manager certificate not yet reported", null, true, null, null, false)]
    [InlineData("a cert-manager certificate into a named Secret, not yet reported", "own-tls", true, null, null, false)]
    public void VaultCertificateRefusal_SuppliedSecret_WaitsUntilCheckedForTheCurrentGeneration(string because, string? secretName, bool issuer, string? status, long? checkedGeneration, bool waits)
    {
        var vault = new V1Alpha1Vault
        {
            Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a", Generation = 3 },
            Spec = new V1Alpha1VaultSpec { Tls = new V1Alpha1VaultTls { SecretName = secretName, IssuerRef = issuer ? new V1Alpha1IssuerReference { Name = "letsencrypt" } : null } },
            Status = new V1Alpha1VaultStatus
            {
                Conditions = status is null ? [] : [new V1Alpha1Condition { Type = ConditionTypes.CertificateReady, Status = status, Reason = "CertificateValid", ObservedGeneration = checkedGeneration }],
            },
        };

        var refusal = KeySetDecisions.VaultCertificateRefusal(vault);

        Assert.True(waits == refusal is not null, $"{because}: {refusal ?? "no wait"}");
    }
}

