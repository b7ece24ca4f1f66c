using System.Text;
using k8s;
using k8s.Models;
using Xks.KmsEmulator;
using Xks.Operator.Entities;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The CspAccount reconciler as users meet it: the operator process against the local control plane, the KMS
/// emulator (AWS STS and KMS) in the test process as <c>spec.endpoint</c>, CspAccounts applied with kubectl.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class CspAccountControllerClusterTests() : OperatorClusterTest("csp"), IAsyncLifetime
{
    private const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    private const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private const string WrongSecretAccessKey = "Wr0ngSecretAccessKeyThatMustNeverLeakOut";
    private KmsEmulator.KmsEmulator _emulator = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        var options = new KmsEmulatorOptions { Region = "eu-west-1", AccountId = "444455556666" };
        options.Credentials[AccessKeyId] = SecretAccessKey;
        _emulator = await KmsEmulator.KmsEmulator.StartAsync(options);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await _emulator.DisposeAsync();
        await DisposeAsync();
    }

    [Fact]
    public async Task CspAccount_GoodSecret_ReadyVerifiedWithTheAccountId()
    {
        await using var op = await StartOperatorAsync();
        await CreateCredentialsSecretAsync("aws-credentials", SecretAccessKey);
        await ApplyAsync(Account("production", _emulator.Url.ToString()));

        var wait = await Cluster.KubectlAsync($"wait --for=condition=Ready cspaccount/production -n {Ns} --timeout=60s");
        Assert.True(wait.ExitCode == 0, wait.Output + "\n" + op.Output);

        var account = await GetAccountAsync("production");
        var ready = Conditions.Get(account.Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Equal("Verified", ready.Reason);
        Assert.Equal("444455556666", account.Status.AccountId);
        Assert.Equal(1, account.Status.ObservedGeneration);
        Assert.Equal(1, ready.ObservedGeneration);
        Assert.Contains("444455556666", ready.Message, StringComparison.Ordinal);
        Assert.Contains($"arn:aws:iam::444455556666:user/", ready.Message, StringComparison.Ordinal);
        var describe = (await Cluster.KubectlAsync($"describe cspaccount production -n {Ns}")).EnsureSuccess("kubectl describe");
        Assert.Contains("Verified", describe.StandardOutput, StringComparison.Ordinal);
        var columns = (await Cluster.KubectlAsync($"get cspaccounts -n {Ns}")).EnsureSuccess("kubectl get");
        Assert.Matches(@"production\s+eu-west-1\s+444455556666\s+True", columns.StandardOutput);

        // Every AWS call is counted by operation and outcome on the operator's /metrics.
        var metrics = await op.GetAsync("/metrics");
        Assert.Contains("xks_operator_aws_calls_total{service=\"sts\",operation=\"GetCallerIdentity\",outcome=\"success\"}", metrics?.Body, StringComparison.Ordinal);

    }

    [Fact]
    public async Task CspAccount_WrongSecret_InvalidCredentialsAndTheSecretAppearsNowhere()
    {
        await using var op = await StartOperatorAsync();
        await CreateCredentialsSecretAsync("aws-credentials", WrongSecretAccessKey);
        await ApplyAsync(Account("wrong", _emulator.Url.ToString()));

        var account = await WaitForAccountAsync("wrong", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Status: ConditionStatus.False, Reason: "InvalidCredentials" });
        Assert.Null(account.Status!.AccountId);

        // The Event follows the status write: wait for it rather than race it.
        Corev1EventList events = new();
        await Eventually.HoldsAsync(
            async () => (events = await Client.CoreV1.ListNamespacedEventAsync(Ns)).Items.Any(e => e.Reason == "InvalidCredentials"),
            Timeout, "the InvalidCredentials Event");
        var warning = Assert.Single(events.Items, e => e.Reason == "InvalidCredentials");
        Assert.Equal("Warning", warning.Type);
        var everything = string.Join('\n',
            KubernetesJson.Serialize(account.Status),
            KubernetesJson.Serialize(events.Items.Select(e => e.Message)),
            op.Output);
        Assert.DoesNotContain(WrongSecretAccessKey, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretAccessKey, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(WrongSecretAccessKey)), everything, StringComparison.Ordinal);

        // Fixing the Secret is enough: the operator watches it.
        await CreateCredentialsSecretAsync("aws-credentials", SecretAccessKey, replace: true);
        var fixedAccount = await WaitForAccountAsync("wrong", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Status: ConditionStatus.True });
        Assert.Equal("444455556666", fixedAccount.Status!.AccountId);
        Assert.Equal(1, fixedAccount.Metadata.Generation);
    }

    [Fact]
    public async Task CspAccount_SecretMissingThenCreated_VerifiedWithoutTouchingTheCspAccount()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync(Account("later", _emulator.Url.ToString(), secretName: "created-later"));

        var missing = await WaitForAccountAsync("later", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Reason: "CredentialsSecretNotFound" });
        var condition = Conditions.Get(missing.Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Equal(ConditionStatus.False, condition.Status);
        Assert.Equal($"Secret {Ns}/created-later (spec.credentials.secretRef) does not exist", condition.Message);

        // The Secret watch wakes the account (which accounts a Secret wakes, and when a failing or verified account is
        // checked again without one, are table-tested in CspAccountRetryTests).
        await CreateCredentialsSecretAsync("created-later", SecretAccessKey);
        var verified = await WaitForAccountAsync("later", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Status: ConditionStatus.True, Reason: "Verified" });

        Assert.Equal(1, verified.Metadata.Generation);
        Assert.Equal("444455556666", verified.Status!.AccountId);
    }

    [Fact]
    public async Task CspAccount_SecretWithoutTheSecretKey_CredentialsSecretInvalidNamingTheKey()
    {
        await using var op = await StartOperatorAsync();
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "half" },
            StringData = new Dictionary<string, string> { ["accessKeyId"] = AccessKeyId },
        }, Ns);
        await ApplyAsync(Account("half", _emulator.Url.ToString(), secretName: "half"));

        var account = await WaitForAccountAsync("half", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Reason: "CredentialsSecretInvalid" });

        Assert.Contains($"Secret {Ns}/half has no non-empty key 'secretAccessKey'", Conditions.Get(account.Status!.Conditions, ConditionTypes.Ready)!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CspAccount_EndpointUnreachable_EndpointUnreachable()
    {
        await using var op = await StartOperatorAsync();
        await CreateCredentialsSecretAsync("aws-credentials", SecretAccessKey);
        await ApplyAsync(Account("nowhere", "http://127.0.0.1:1/"));

        var account = await WaitForAccountAsync("nowhere", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Reason: "EndpointUnreachable" });

        var ready = Conditions.Get(account.Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Equal(ConditionStatus.False, ready.Status);
        Assert.Contains("127.0.0.1:1", ready.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CspAccount_SourceSecretWithoutSecretRef_InvalidSpec()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync("""
            apiVersion: xks.dev/v1alpha1
            kind: CspAccount
            metadata:
              name: noref
            spec:
              region: eu-west-1
              credentials: {source: Secret}
            """);

        var account = await WaitForAccountAsync("noref", a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Reason: "InvalidSpec" });

        Assert.Contains("spec.credentials.secretRef.name is required", Conditions.Get(account.Status!.Conditions, ConditionTypes.Ready)!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CspAccount_TenantAsksForWhatTheOperatorDoesNotAllow_IdentityNotAllowedAndNoAwsCall()
    {
        // The operator runs as the tests start it: no ambient-credentials namespace, any role, https beyond loopback.
        await using var op = await StartOperatorAsync();
        await CreateCredentialsSecretAsync("aws-credentials", SecretAccessKey);
        await ApplyAsync($"""
            apiVersion: xks.dev/v1alpha1
            kind: CspAccount
            metadata:
              name: ambient
            spec:
              region: eu-west-1
              endpoint: {_emulator.Url}
              credentials:
                source: Default
            ---
            apiVersion: xks.dev/v1alpha1
            kind: CspAccount
            metadata:
              name: deputy
            spec:
              region: eu-west-1
              endpoint: {_emulator.Url}
              credentials:
                source: Secret
                secretRef:
                  name: aws-credentials
              assumeRole:
                roleArn: arn:aws:iam::444455556666:role/team-a
                externalId: team-a-external-id
            """);
        await ApplyAsync(Account("collector", "http://192.0.2.10:4566/"));

        var expected = new Dictionary<string, string>
        {
            ["ambient"] = "spec.credentials.source Default would lend the operator's own AWS identity to namespace " + Ns,
            ["deputy"] = $"have the role's trust policy require sts:ExternalId 'xks:{Ns}/deputy'",
            ["collector"] = "spec.endpoint http://192.0.2.10:4566 is plain http",
        };
        foreach (var (name, message) in expected)
        {
            var account = await WaitForAccountAsync(name, a => Conditions.Get(a.Status?.Conditions, ConditionTypes.Ready) is { Status: ConditionStatus.False, Reason: "IdentityNotAllowed" });
            Assert.Contains(message, Conditions.Get(account.Status!.Conditions, ConditionTypes.Ready)!.Message, StringComparison.Ordinal);
            Assert.Null(account.Status.AccountId);
        }

        await Eventually.HoldsAsync(
            async () => (await Client.CoreV1.ListNamespacedEventAsync(Ns)).Items.Count(e => e.Reason == "IdentityNotAllowed" && e.Type == "Warning") >= 3,
            Timeout, "a Warning Event per refused CspAccount");
        Assert.Equal(0, _emulator.CallCount("GetCallerIdentity"));
        Assert.Equal(0, _emulator.CallCount("AssumeRole"));
    }

    private static string Account(string name, string endpoint, string secretName = "aws-credentials") => $"""
        apiVersion: xks.dev/v1alpha1
        kind: CspAccount
        metadata:
          name: {name}
        spec:
          region: eu-west-1
          endpoint: {endpoint}
          credentials:
            source: Secret
            secretRef:
              name: {secretName}
        """;

    private async Task CreateCredentialsSecretAsync(string name, string secretAccessKey, bool replace = false)
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name },
            Data = new Dictionary<string, byte[]>
            {
                ["accessKeyId"] = Encoding.UTF8.GetBytes(AccessKeyId),
                ["secretAccessKey"] = Encoding.UTF8.GetBytes(secretAccessKey + "\n"),
            },
        };
        if (replace)
        {
            await Client.CoreV1.ReplaceNamespacedSecretAsync(secret, name, Ns);
        }
        else
        {
            await Client.CoreV1.CreateNamespacedSecretAsync(secret, Ns);
        }
    }

    private async Task<V1Alpha1CspAccount> GetAccountAsync(string name) =>
        KubernetesJson.Deserialize<V1Alpha1CspAccount>(KubernetesJson.Serialize(
            await Client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, "cspaccounts", name)));

    private async Task<V1Alpha1CspAccount> WaitForAccountAsync(string name, Func<V1Alpha1CspAccount, bool> condition)
    {
        V1Alpha1CspAccount? account = null;
        await Eventually.HoldsAsync(async () => condition(account = await GetAccountAsync(name)), Timeout, $"CspAccount {name}");
        return account!;
    }
}
