using Xks.Operator.Entities;
using Xks.Operator.Hsm;

namespace Xks.Operator.Controllers.Tests;

/// <summary>The Vault's Ready ladder and when it looks again (<see cref="VaultDecisions.Ready"/>, <see cref="VaultDecisions.Recheck"/>).</summary>
public sealed class VaultReadyDecisionsTests
{
    private const string Endpoint = "https://xks.example.com";

    private static V1Alpha1Condition Condition(string type, string status, string reason, string? message) =>
        new() { Type = type, Status = status, Reason = reason, Message = message };

    private static readonly V1Alpha1Condition ProxyUp = Condition(ConditionTypes.ProxyAvailable, ConditionStatus.True, Reasons.Available, "2 of 2 replicas available");
    private static readonly V1Alpha1Condition ProxyDown = Condition(ConditionTypes.ProxyAvailable, ConditionStatus.False, Reasons.ProxyUnavailable, "0 of 2 replicas available");
    private static readonly V1Alpha1Condition CertificateIssued = Condition(ConditionTypes.CertificateReady, ConditionStatus.True, Reasons.CertificateIssued, "issued");
    private static readonly V1Alpha1Condition CertificateExpiringSoon = Condition(ConditionTypes.CertificateReady, ConditionStatus.True, Reasons.CertificateExpiringSoon, "expires in 9 days");
    private static readonly V1Alpha1Condition CertificateMissing = Condition(ConditionTypes.CertificateReady, ConditionStatus.False, Reasons.SecretNotFound, "Secret xks-tls (spec.tls.secretName) does not exist");

    public static TheoryData<string, (string Reason, string Message)?, V1Alpha1Condition?, V1Alpha1Condition?, string, string, string> Ladder() => new()
    {
        { "all fine: Available names the endpoint and replicas", null, ProxyUp, CertificateIssued, ConditionStatus.True, Reasons.Available, $"the proxy serves {Endpoint} with 2 replicas" },
        { "an expiring certificate still serves", null, ProxyUp, CertificateExpiringSoon, ConditionStatus.True, Reasons.Available, $"the proxy serves {Endpoint} with 2 replicas" },
        { "key custody first, even with the proxy down", (Reasons.MasterKeyMissing, "master key gone"), ProxyDown, CertificateMissing, ConditionStatus.False, Reasons.MasterKeyMissing, "master key gone" },
        { "an HSM the operator cannot use", (HsmException.HsmUnavailable, "no token"), ProxyUp, CertificateIssued, ConditionStatus.False, HsmException.HsmUnavailable, "no token" },
        { "the proxy down before the certificate", null, ProxyDown, CertificateMissing, ConditionStatus.False, Reasons.ProxyUnavailable, "0 of 2 replicas available" },
        { "the certificate's own reason", null, ProxyUp, CertificateMissing, ConditionStatus.False, Reasons.SecretNotFound, "Secret xks-tls (spec.tls.secretName) does not exist" },
        { "a proxy condition without a message", null, Condition(ConditionTypes.ProxyAvailable, ConditionStatus.Unknown, "Pending", null), CertificateIssued, ConditionStatus.False, Reasons.ProxyUnavailable, "" },
    };

    [Theory]
    [MemberData(nameof(Ladder))]
    public void Ready_FirstRuleThatApplies_Decides(string why, (string Reason, string Message)? custody, V1Alpha1Condition? proxy, V1Alpha1Condition? certificate, string status, string reason, string message)
    {
        var verdict = VaultDecisions.Ready(custody, proxy, certificate, Endpoint, available: 2);

        Assert.True(new ConditionVerdict(status, reason, message) == verdict, $"{why}: got {verdict}");
    }

    public static TheoryData<string, bool, int?, int?, int?> Rechecks() => new()
    {
        { "Ready with nothing due: only a change wakes it", true, null, null, null },
        { "not Ready: every 30 s", false, null, null, 30 },
        { "a root-key step due now waits a second", true, 0, null, 1 },
        { "a root-key step due in 5 s", true, 5, null, 5 },
        { "not Ready, root-key step in 300 s: the sooner", false, 300, null, 30 },
        { "a certificate due in 59 s is looked at a second late", true, null, 59, 60 },
        { "a certificate due in a month waits at most 12 h", true, null, 30 * 86_400, 43_200 },
        { "root key in 10 s, certificate in 4 s: the sooner", true, 10, 4, 5 },
        { "not Ready, certificate in 10 s: the sooner", false, null, 10, 11 },
    };

    [Theory]
    [MemberData(nameof(Rechecks))]
    public void Recheck_SoonestThatApplies(string why, bool isReady, int? rootKeySeconds, int? certificateSeconds, int? expectedSeconds)
    {
        var recheck = VaultDecisions.Recheck(isReady, Seconds(rootKeySeconds), Seconds(certificateSeconds));

        Assert.True(Seconds(expectedSeconds) == recheck, $"{why}: got {recheck}");
    }

    private static TimeSpan? Seconds(int? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;
}
