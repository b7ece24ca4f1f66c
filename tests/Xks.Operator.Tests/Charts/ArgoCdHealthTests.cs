using System.Text.Json;
using System.Text.Json.Nodes;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// The Argo CD health scripts charts/xks-operator/argocd/health-&lt;kind&gt;.lua run by Lua 5.1 against fixture objects
/// of each kind (the scenario test runs them over the real status objects the operator wrote, see
/// SeedScenarioClusterTests), the scripts kept in sync with their template, and the chart README's argocd-cm snippet.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ArgoCdHealthTests
{
    public static TheoryData<string> Kinds => [.. ArgoCdHealthScript.Kinds];

    [Theory]
    [InlineData("Vault", "True", "Available", "the proxy serves https://xks.example.com with 2 replicas", "Healthy", "the proxy serves https://xks.example.com with 2 replicas")]
    [InlineData("Vault", "False", "ProxyUnavailable", "0/2 proxy replicas available", "Progressing", "ProxyUnavailable: 0/2 proxy replicas available")]
    [InlineData("Vault", "False", "CertificatePending", "waiting for cert-manager to issue Certificate xks", "Progressing", "CertificatePending: waiting for cert-manager to issue Certificate xks")]
    [InlineData("Vault", "False", "SecretNotFound", "Secret xks-tls (spec.tls.secretName) does not exist", "Degraded", "SecretNotFound: Secret xks-tls (spec.tls.secretName) does not exist")]
    [InlineData("Vault", "False", "MasterKeyInvalid", "master.key is not 32 bytes", "Degraded", "MasterKeyInvalid: master.key is not 32 bytes")]
    [InlineData("Vault", "False", "InvalidSpec", "replicas 1 needs allowSingleReplica", "Degraded", "InvalidSpec: replicas 1 needs allowSingleReplica")]
    [InlineData("CspAccount", "True", "Verified", "account 111122223333 as arn:aws:sts::111122223333:assumed-role/xks-operator/x", "Healthy", "account 111122223333 as arn:aws:sts::111122223333:assumed-role/xks-operator/x")]
    [InlineData("CspAccount", "False", "Throttled", "KMS throttled the call; retrying", "Progressing", "Throttled: KMS throttled the call; retrying")]
    [InlineData("CspAccount", "False", "CredentialsSecretNotFound", "Secret aws-credentials does not exist", "Degraded", "CredentialsSecretNotFound: Secret aws-credentials does not exist")]
    [InlineData("CspAccount", "False", "InvalidCredentials", "the access key is not valid", "Degraded", "InvalidCredentials: the access key is not valid")]
    [InlineData("CspAccount", "False", "AccessDenied", "not allowed to call sts:AssumeRole", "Degraded", "AccessDenied: not allowed to call sts:AssumeRole")]
    [InlineData("ClusterCspAccount", "True", "Verified", "account 111122223333 as arn:aws:sts::111122223333:assumed-role/xks-operator/x", "Healthy", "account 111122223333 as arn:aws:sts::111122223333:assumed-role/xks-operator/x")]
    [InlineData("ClusterCspAccount", "False", "IdentityNotAllowed", "spec.assumeRole.roleArn is not allowed", "Degraded", "IdentityNotAllowed: spec.assumeRole.roleArn is not allowed")]
    [InlineData("KeySet", "False", "NotAllowed", "ClusterCspAccount shared's namespaceSelector does not select namespace team-b", "Degraded", "NotAllowed: ClusterCspAccount shared's namespaceSelector does not select namespace team-b")]
    [InlineData("KeySet", "True", "Connected", "custom key store cks-1234 is CONNECTED", "Healthy", "custom key store cks-1234 is CONNECTED")]
    [InlineData("KeySet", "False", "WaitingForVault", "Vault xks is not Ready", "Progressing", "WaitingForVault: Vault xks is not Ready")]
    [InlineData("KeySet", "False", "WaitingForCspAccount", "CspAccount production is not Ready", "Progressing", "WaitingForCspAccount: CspAccount production is not Ready")]
    [InlineData("KeySet", "False", "Connecting", "custom key store cks-1234 is CONNECTING", "Progressing", "Connecting: custom key store cks-1234 is CONNECTING")]
    [InlineData("KeySet", "False", "Creating", "", "Progressing", "Creating")]
    [InlineData("KeySet", "False", "XKS_PROXY_NOT_REACHABLE", "KMS cannot reach https://xks.example.com", "Degraded", "XKS_PROXY_NOT_REACHABLE: KMS cannot reach https://xks.example.com")]
    [InlineData("KeySet", "False", "INVALID_CREDENTIALS", "the proxy refused the credential", "Degraded", "INVALID_CREDENTIALS: the proxy refused the credential")]
    [InlineData("KeySet", "False", "VaultNotFound", "Vault xks does not exist", "Degraded", "VaultNotFound: Vault xks does not exist")]
    [InlineData("CloudKey", "True", "Enabled", "KMS key 1234abcd is Enabled", "Healthy", "KMS key 1234abcd is Enabled")]
    [InlineData("CloudKey", "True", "Disabled", "KMS key 1234abcd is Disabled (spec.enabled false)", "Healthy", "KMS key 1234abcd is Disabled (spec.enabled false)")]
    [InlineData("CloudKey", "False", "WaitingForKeySet", "KeySet payments is not Ready", "Progressing", "WaitingForKeySet: KeySet payments is not Ready")]
    [InlineData("CloudKey", "False", "PendingDeletion", "KMS key 1234abcd is deleted on 2026-12-28", "Progressing", "PendingDeletion: KMS key 1234abcd is deleted on 2026-12-28")]
    [InlineData("CloudKey", "False", "XksKeyNotFound", "the proxy does not know key payments-db-2f1c", "Degraded", "XksKeyNotFound: the proxy does not know key payments-db-2f1c")]
    [InlineData("CloudKey", "False", "Drift", "the KMS key was disabled outside the operator", "Degraded", "Drift: the KMS key was disabled outside the operator")]
    [InlineData("CloudKey", "False", "KeySetNotFound", "KeySet payments does not exist", "Degraded", "KeySetNotFound: KeySet payments does not exist")]
    public async Task HealthScript_ReadyConditionOfTheCurrentGeneration_JudgedByItsReason(string kind, string ready, string reason, string message, string expectedStatus, string expectedMessage)
    {
        var json = Object(kind, generation: 3, observedGeneration: 3, Condition("Ready", ready, reason, message, 3));

        Assert.Equal((expectedStatus, expectedMessage), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_NoStatusYet_IsProgressing(string kind) =>
        Assert.Equal(("Progressing", $"Waiting for the operator to report the status of this {kind}"), await ArgoCdHealthScript.RunAsync(kind, Object(kind, 1, null)));

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_StatusOfAnOlderGeneration_IsProgressingEvenWhenItWasReady(string kind)
    {
        var json = Object(kind, generation: 4, observedGeneration: 3, Condition("Ready", "True", "Ready", "ok", 3));

        Assert.Equal(("Progressing", "Waiting for the operator to observe generation 4"), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_ReadyConditionOfAnOlderGeneration_IsProgressing(string kind)
    {
        var json = Object(kind, generation: 4, observedGeneration: 4, Condition("Ready", "True", "Ready", "ok", 3));

        Assert.Equal(("Progressing", "Waiting for the Ready condition of generation 4"), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_OtherConditionsButNoReady_IsProgressing(string kind)
    {
        var json = Object(kind, 2, 2, Condition("Synced", "True", "InSync", "", 2));

        Assert.Equal(("Progressing", "Waiting for the Ready condition"), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_ReadyUnknown_IsProgressing(string kind)
    {
        var json = Object(kind, 1, 1, Condition("Ready", "Unknown", "Reconciling", "", 1));

        Assert.Equal(("Progressing", "Reconciling"), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_UnknownFalseReason_IsDegradedWithReasonAndMessage(string kind)
    {
        var json = Object(kind, 1, 1, Condition("Ready", "False", "ReconcileFailed", "the API server said no", 1));

        Assert.Equal(("Degraded", "ReconcileFailed: the API server said no"), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_BeingDeleted_IsProgressingAndNamesTheFinalizers(string kind)
    {
        var node = JsonNode.Parse(Object(kind, 1, 1, Condition("Ready", "True", "Ready", "ok", 1)))!;
        node["metadata"]!["deletionTimestamp"] = "2026-11-28T19:00:00Z";
        node["metadata"]!["finalizers"] = new JsonArray("xks.dev/finalizer");

        Assert.Equal(("Progressing", "Pending deletion; blocked by finalizers: xks.dev/finalizer"), await ArgoCdHealthScript.RunAsync(kind, node.ToJsonString()));
        node["metadata"]!.AsObject().Remove("finalizers");
        Assert.Equal(("Progressing", "Pending deletion"), await ArgoCdHealthScript.RunAsync(kind, node.ToJsonString()));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HealthScript_JsonNullsAndNoObservedGenerationOnTheCondition_StillHealthy(string kind)
    {
        var json = $$$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"{{{kind}}}","metadata":{"name":"a","generation":1,"annotations":null},
             "status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"Ready","message":null,"observedGeneration":null}]}}
            """;

        Assert.Equal(("Healthy", "Ready"), await ArgoCdHealthScript.RunAsync(kind, json));
    }

    [Fact]
    public async Task HealthScripts_Committed_AreWhatTheTemplateGenerates()
    {
        var check = await LocalCluster.RunAsync(Path.Combine(ArgoCdHealthScript.Directory, "generate.sh"), "--check");

        Assert.True(check.ExitCode == 0, check.Output);
        foreach (var kind in ArgoCdHealthScript.Kinds)
        {
            var script = await File.ReadAllTextAsync(ArgoCdHealthScript.PathOf(kind));
            Assert.Contains($"resource.customizations.health.xks.dev_{kind})", script, StringComparison.Ordinal);
            Assert.DoesNotContain("@", script, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Readme_ArgoCdSnippet_NamesEveryKindsScript()
    {
        var readme = File.ReadAllText(Path.Combine(HelmChart.Directory, "README.md"));

        foreach (var kind in ArgoCdHealthScript.Kinds)
        {
            var file = Path.GetFileName(ArgoCdHealthScript.PathOf(kind));
            Assert.Contains($"resource.customizations.health.xks.dev_{kind}", readme, StringComparison.Ordinal);
            Assert.Contains($"argocd/{file}", readme, StringComparison.Ordinal);
            var firstLine = File.ReadLines(ArgoCdHealthScript.PathOf(kind)).First();
            Assert.Contains("    " + firstLine + "\n", readme, StringComparison.Ordinal);
        }
    }

    private static string Condition(string type, string status, string reason, string message, long observedGeneration) =>
        JsonSerializer.Serialize(new { type, status, reason, message, observedGeneration, lastTransitionTime = "2026-11-28T19:00:00Z" });

    private static string Object(string kind, long generation, long? observedGeneration, params string[] conditions)
    {
        var status = observedGeneration is null ? "" : $$""","status":{"observedGeneration":{{observedGeneration}},"conditions":[{{string.Join(',', conditions)}}]}""";
        return $$"""{"apiVersion":"xks.dev/v1alpha1","kind":"{{kind}}","metadata":{"name":"a","namespace":"b","generation":{{generation}}},"spec":{}{{status}}}""";
    }
}
