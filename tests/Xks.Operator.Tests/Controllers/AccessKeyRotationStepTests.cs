using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.KmsEmulator;
using Xks.Operator.Aws;
using Xks.Operator.Aws.Tests;
using Xks.Operator.Entities;
using Xks.Operator.Support.Tests;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// <see cref="AccessKeyRotationStep"/> against the emulator's IAM and STS, with a fault injected at each step (each
/// IAM call, the new key's verification, the Secret write). After every fault and after recovery: the Secret's key
/// works, IAM holds at most two keys; in the end exactly one active key, the Secret's, and not the one it started with.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AccessKeyRotationStepTests : IAsyncLifetime
{
    private const string Region = "eu-west-1";
    private KmsEmulator.KmsEmulator _emulator = null!;
    private AwsTestAccounts _aws = null!;
    private MemoryHost _host = null!;
    private string _userArn = "";
    private readonly AccessKeyRotationStep _step = new(TimeProvider.System, NullLogger.Instance);

    public async Task InitializeAsync()
    {
        var options = new KmsEmulatorOptions { Region = Region };
        options.Credentials[AwsTestAccounts.AccessKeyId] = AwsTestAccounts.SecretAccessKey;
        OperatorIdentityPolicy.Apply(options, AwsTestAccounts.AccessKeyId); // config/iam: every IAM call below is evaluated against it
        _userArn = OperatorIdentityPolicy.UserArn(options, AwsTestAccounts.AccessKeyId);
        _emulator = await KmsEmulator.KmsEmulator.StartAsync(options);
        _aws = new AwsTestAccounts(new AwsClientOptions
        {
            RetiredSessionGrace = TimeSpan.Zero,
            MaxErrorRetry = 0,
            AccessKeySettle = TimeSpan.Zero,
            NewKeyPropagation = TimeSpan.Zero,
        });
        _aws.PutSecret();
        _host = new MemoryHost(_aws);
    }

    public async Task DisposeAsync()
    {
        _aws.Dispose();
        await _emulator.DisposeAsync();
    }

    public static TheoryData<string, string, string, int> Faults => new()
    {
        { "CreateAccessKey fails: nothing was created", "CreateAccessKey", "ServiceFailure", 500 },
        { "CreateAccessKey fails on IAM's quota", "CreateAccessKey", "LimitExceeded", 409 },
        { "the new key does not verify: an orphan is left", "GetCallerIdentity", "InvalidClientTokenId", 403 },
        { "the Secret write fails: an orphan is left", "SecretWrite", "Conflict", 409 },
        { "UpdateAccessKey fails: the Secret holds the new key, the old one is active", "UpdateAccessKey", "ServiceFailure", 500 },
        { "DeleteAccessKey fails: the old key stays, inactive", "DeleteAccessKey", "ServiceFailure", 500 },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task RunAsync_FaultAtAStep_SecretKeepsAWorkingKeyAndTheNextPassFinishes(string scenario, string step, string code, int status)
    {
        if (step == "SecretWrite")
        {
            _host.FailSecretWrites = 1;
        }
        else
        {
            _emulator.FailNext(step, code, httpStatus: status);
        }

        var failure = await Record.ExceptionAsync(() => PassAsync("rotate-1"));
        var afterFault = await IamKeysAsync();
        await AssertSecretKeyWorksAsync(scenario);

        var result = await PassAsync("rotate-1");
        var final = await IamKeysAsync();
        var secretKey = SecretKeyId();

        Assert.True(failure is not null, $"{scenario}: the pass did not fail");
        Assert.True(afterFault.Count <= 2, $"{scenario}: {afterFault.Count} keys after the fault");
        await AssertSecretKeyWorksAsync(scenario);
        Assert.True(final.Count == 1, $"{scenario}: {string.Join(", ", final.Select(k => k.AccessKeyId))} after recovery");
        Assert.Equal(secretKey, final[0].AccessKeyId);
        Assert.True(final[0].Active);
        Assert.NotEqual(AwsTestAccounts.AccessKeyId, secretKey);
        Assert.Equal(Reasons.AccessKeyCurrent, result.Reason);
        Assert.Equal("rotate-1", _host.Status!.HandledRotationRequest);
    }

    [Fact]
    public async Task RunAsync_RotationRequested_RotatesInOnePassWithAnEventPerStep()
    {
        var result = await PassAsync("now");

        Assert.Equal(Reasons.AccessKeyCurrent, result.Reason);
        Assert.Equal(
            [Reasons.AccessKeyCreated, Reasons.AccessKeyRotated, Reasons.AccessKeyDeactivated, Reasons.AccessKeyDeleted],
            _host.Events.Select(e => e.Reason));
        Assert.Equal(SecretKeyId(), _host.Status!.Id);
        Assert.Equal(nameof(AccessKeyPhase.Current), _host.Status.Phase);
        Assert.Null(_host.Status.PreviousId);
        Assert.Equal(1, _emulator.CallCount("CreateAccessKey"));
    }

    [Fact]
    public async Task RunAsync_SameRequestAgain_DoesNothing()
    {
        await PassAsync("once");
        var key = SecretKeyId();

        var result = await PassAsync("once");

        Assert.Equal(key, SecretKeyId());
        Assert.Equal(1, _emulator.CallCount("CreateAccessKey"));
        Assert.Equal(Reasons.AccessKeyCurrent, result.Reason);
        Assert.NotNull(result.WaitUntil);
    }

    [Fact]
    public async Task RunAsync_NothingDue_WaitsUntilTheNextRotation()
    {
        var result = await PassAsync(null);

        Assert.Equal(AwsTestAccounts.AccessKeyId, SecretKeyId());
        Assert.Equal(0, _emulator.CallCount("CreateAccessKey"));
        Assert.Equal(_host.Status!.NextRotation, result.WaitUntil!.Value.UtcDateTime);
        Assert.InRange(result.WaitUntil.Value, DateTimeOffset.UtcNow.AddDays(89), DateTimeOffset.UtcNow.AddDays(91));
    }

    [Fact]
    public async Task RunAsync_UnderTheShippedPolicy_NeedsEveryActionOfConfigIamAccessKeyRotationPolicy()
    {
        await PassAsync("now");

        Assert.Equal(
            [Reasons.AccessKeyCreated, Reasons.AccessKeyRotated, Reasons.AccessKeyDeactivated, Reasons.AccessKeyDeleted],
            _host.Events.Select(e => e.Reason));
        Assert.Empty(_emulator.DeniedUnder(_userArn, OperatorIdentityPolicy.AccessKeyRotationJson));
        var unneeded = OperatorIdentityPolicy.EachActionRemoved(OperatorIdentityPolicy.AccessKeyRotationJson)
            .Where(removed => _emulator.DeniedUnder(_userArn, removed.PolicyWithout).Count == 0)
            .Select(removed => removed.Action)
            .ToList();
        Assert.True(unneeded.Count == 0, "actions of config/iam/access-key-rotation-policy.json no request needed: " + string.Join(", ", unneeded));
    }

    [Fact]
    public async Task RunAsync_GraceNotOver_OldKeyStaysInactiveThenIsDeleted()
    {
        var result = await PassAsync("now", grace: "1h");
        var keys = await IamKeysAsync();

        Assert.Equal(Reasons.AccessKeyRotated, result.Reason);
        Assert.Equal(nameof(AccessKeyPhase.Deactivated), _host.Status!.Phase);
        Assert.Equal(AwsTestAccounts.AccessKeyId, _host.Status.PreviousId);
        Assert.False(keys.Single(k => k.AccessKeyId == AwsTestAccounts.AccessKeyId).Active);
        Assert.InRange(result.WaitUntil!.Value, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
        await AssertSecretKeyWorksAsync("during the grace period");
    }

    [Fact]
    public async Task RunAsync_SecondKeyNotMadeByTheOperator_RefusesAndDeletesNothing()
    {
        var stranger = await Iam(AwsTestAccounts.AccessKeyId, AwsTestAccounts.SecretAccessKey).CreateAccessKeyAsync(default);

        var result = await PassAsync("now");
        var keys = await IamKeysAsync();

        Assert.Equal(Reasons.AccessKeyRotationRefused, result.Reason);
        Assert.Contains(stranger.AccessKeyId, result.Message, StringComparison.Ordinal);
        Assert.Equal(2, keys.Count);
        Assert.Equal(AwsTestAccounts.AccessKeyId, SecretKeyId());
        Assert.Equal(0, _emulator.CallCount("DeleteAccessKey"));
        Assert.Contains(_host.Events, e => e.Warning && e.Reason == Reasons.AccessKeyRotationRefused);
    }

    [Fact]
    public async Task RunAsync_AccountAssumesARole_RotatesTheBaseKeyAndTheRoleStillWorks()
    {
        var result = await PassAsync("now", assumeRole: true);
        var account = Account("0s", assumeRole: true);
        var session = await _aws.Clients.ForAccountAsync(account, null, default);
        var identity = await session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default);

        Assert.Equal(Reasons.AccessKeyCurrent, result.Reason);
        Assert.NotEqual(AwsTestAccounts.AccessKeyId, SecretKeyId());
        Assert.Equal([SecretKeyId()], (await IamKeysAsync()).Select(k => k.AccessKeyId));
        Assert.Equal("arn:aws:sts::111122223333:assumed-role/xks-operator/xks-operator", identity.Arn);
    }

    [Fact]
    public async Task RunAsync_AnyPass_NeverPutsTheSecretInStatusOrEvents()
    {
        await PassAsync("now", grace: "1h");
        var secret = Encoding.UTF8.GetString(_aws.Secrets[(AwsTestAccounts.Namespace, "aws-credentials")].Data["secretAccessKey"]);
        var status = k8s.KubernetesJson.Serialize(_host.Status);

        Assert.DoesNotContain(secret, status, StringComparison.Ordinal);
        Assert.All(_host.Events, e => Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal));
    }

    private V1Alpha1CspAccount Account(string grace, bool assumeRole = false)
    {
        var account = AwsTestAccounts.Account(endpoint: _emulator.Url.ToString(), region: Region);
        account.Spec.Credentials.AccessKeyRotation = new V1Alpha1AccessKeyRotation { Every = "90d", GracePeriod = grace };
        if (assumeRole)
        {
            account.Spec.AssumeRole = new V1Alpha1AssumeRole { RoleArn = "arn:aws:iam::111122223333:role/xks-operator" };
        }

        return account;
    }

    private async Task<AccessKeyRotationResult> PassAsync(string? request, string grace = "0s", bool assumeRole = false)
    {
        var account = Account(grace, assumeRole);
        var session = await _aws.Clients.ForAccountAsync(account, null, default);
        var secret = _aws.Secrets[(AwsTestAccounts.Namespace, "aws-credentials")];
        var result = await _step.RunAsync(session, AwsAccount.Of(account), secret, request, _host.Status, _host, default);
        _host.Status = result.Status;
        return result;
    }

    private string SecretKeyId() => Encoding.UTF8.GetString(_aws.Secrets[(AwsTestAccounts.Namespace, "aws-credentials")].Data["accessKeyId"]);

    private (string Id, string Secret) SecretKeys()
    {
        var data = _aws.Secrets[(AwsTestAccounts.Namespace, "aws-credentials")].Data;
        return (Encoding.UTF8.GetString(data["accessKeyId"]), Encoding.UTF8.GetString(data["secretAccessKey"]));
    }

    private IamClient Iam(string id, string secret) =>
        new AwsKeyClients(new HttpClient(), Region, _emulator.Url.ToString(), _aws.Clients.Options).Iam(new AwsSecretKeys(id, secret, null));

    private Task<IReadOnlyList<IamAccessKey>> IamKeysAsync()
    {
        var (id, secret) = SecretKeys();
        return Iam(id, secret).ListAccessKeysAsync(default);
    }

    private async Task AssertSecretKeyWorksAsync(string scenario)
    {
        var (id, secret) = SecretKeys();
        using var sts = new AmazonSecurityTokenServiceClient(new BasicAWSCredentials(id, secret),
            new AmazonSecurityTokenServiceConfig { ServiceURL = _emulator.Url.ToString(), AuthenticationRegion = Region, MaxErrorRetry = 0 });
        var identity = await Record.ExceptionAsync(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        Assert.True(identity is null, $"{scenario}: the Secret's key {id} does not work: {identity?.Message}");
    }

    /// <summary>The Secret store of <see cref="AwsTestAccounts"/> with resourceVersion-guarded writes, a status that survives passes, and Events.</summary>
    private sealed class MemoryHost(AwsTestAccounts aws) : IAccessKeyRotationHost
    {
        public V1Alpha1AccessKeyStatus? Status { get; set; }

        public int FailSecretWrites { get; set; }

        public List<(bool Warning, string Reason, string Message)> Events { get; } = [];

        public Task<V1Secret> ReplaceSecretAsync(V1Secret secret, CancellationToken cancellationToken)
        {
            var key = (secret.Metadata.NamespaceProperty, secret.Metadata.Name);
            var stored = aws.Secrets[key];
            if (FailSecretWrites > 0 || stored.Metadata.ResourceVersion != secret.Metadata.ResourceVersion)
            {
                FailSecretWrites = Math.Max(0, FailSecretWrites - 1);
                throw new HttpOperationException("Conflict") { Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.Conflict), "") };
            }

            var next = int.Parse(stored.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) + 1;
            var written = new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = secret.Metadata.Name, NamespaceProperty = secret.Metadata.NamespaceProperty, ResourceVersion = next.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                Data = new Dictionary<string, byte[]>(secret.Data),
            };
            aws.Secrets[key] = written;
            return Task.FromResult(written);
        }

        public Task SaveStatusAsync(V1Alpha1AccessKeyStatus status, CancellationToken cancellationToken)
        {
            Status = status;
            return Task.CompletedTask;
        }

        public Task EventAsync(bool warning, string reason, string message, CancellationToken cancellationToken)
        {
            Events.Add((warning, reason, message));
            return Task.CompletedTask;
        }
    }
}
