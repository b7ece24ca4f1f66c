using System.Diagnostics;
using Amazon.Runtime;
using Xks.Testing;

namespace Xks.Operator.Aws.Tests;

public sealed class AwsClientsTests
{
    [Fact]
    public async Task ForAccountAsync_SameSpecAndSecret_ReturnsTheCachedSession()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();

        var first = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);
        var second = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        Assert.Same(first, second);
        Assert.Equal("eu-west-1", first.Region);
    }

    [Fact]
    public async Task ForAccountAsync_VersionCached_ReadsTheSecretOnlyWhenItsVersionChanges()
    {
        using var aws = new AwsTestAccounts(versionCache: true);
        aws.PutSecret();

        var first = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);
        for (var i = 0; i < 5; i++)
        {
            Assert.Same(first, await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default));
        }

        var readsBefore = aws.SecretReads;
        aws.PutSecret(secretAccessKey: "AnotherSecretAccessKeyOfFortyCharacters00");
        var after = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        Assert.Equal(1, readsBefore);
        Assert.Equal(2, aws.SecretReads);
        Assert.NotSame(first, after);
    }

    [Fact]
    public async Task ForAccountAsync_VersionCacheHasNoSuchSecret_CredentialsSecretNotFoundWithoutARead()
    {
        using var aws = new AwsTestAccounts(versionCache: true);

        var error = await Assert.ThrowsAsync<AwsAccountException>(() => aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default));

        Assert.Equal("CredentialsSecretNotFound", error.Reason);
        Assert.Equal(0, aws.SecretReads);
    }

    [Fact]
    public async Task ForAccountAsync_SecretChanged_NewSessionAndTheOldOneIsDisposed()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var before = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        aws.PutSecret(secretAccessKey: "AnotherSecretAccessKeyOfFortyCharacters00");
        var after = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        Assert.NotSame(before, after);
        await Eventually.HoldsAsync(() => before.IsDisposed, TimeSpan.FromSeconds(5), "the replaced session is disposed");
        Assert.False(after.IsDisposed);
    }

    [Fact]
    public async Task ForAccountAsync_SpecChanged_NewSession()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var before = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(generation: 1), null, default);

        var after = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(generation: 2), null, default);

        Assert.NotSame(before, after);
    }

    [Fact]
    public async Task ForAccountAsync_OtherRegion_SeparateSessionBothKept()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();

        var home = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);
        var other = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), "us-east-1", default);

        Assert.Equal("us-east-1", other.Region);
        Assert.Same(home, await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), "eu-west-1", default));
        Assert.False(home.IsDisposed);
    }

    [Fact]
    public async Task ForAccountAsync_EndpointOverride_KmsAndStsUseItAndSignForTheRegion()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();

        var session = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(endpoint: "http://127.0.0.1:4566/"), null, default);

        foreach (var config in new[] { session.Kms.Config, session.Sts.Config })
        {
            Assert.Equal("http://127.0.0.1:4566/", config.ServiceURL);
            Assert.Equal("eu-west-1", config.AuthenticationRegion);
            Assert.Equal(RequestRetryMode.Standard, config.RetryMode);
            Assert.Equal(3, config.MaxErrorRetry);
            Assert.Equal(TimeSpan.FromSeconds(15), config.Timeout);
        }
    }

    [Fact]
    public async Task ForAccountAsync_NoEndpoint_UsesTheRegionsPublicEndpoint()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();

        var session = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        Assert.Null(session.Kms.Config.ServiceURL);
        Assert.Equal("eu-west-1", session.Kms.Config.RegionEndpoint.SystemName);
        Assert.Equal("eu-west-1", session.Sts.Config.RegionEndpoint.SystemName);
    }

    [Fact]
    public async Task ForAccountAsync_SecretMissing_CredentialsSecretNotFoundNamingIt()
    {
        using var aws = new AwsTestAccounts();

        var error = await Assert.ThrowsAsync<AwsAccountException>(() => aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default));

        Assert.Equal("CredentialsSecretNotFound", error.Reason);
        Assert.Equal("Secret team-a/aws-credentials (spec.credentials.secretRef) does not exist", error.Message);
    }

    [Fact]
    public async Task ForAccountAsync_SecretWithoutTheSecretKey_CredentialsSecretInvalidNamingTheKeyNotTheValues()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret(secretAccessKey: null);

        var error = await Assert.ThrowsAsync<AwsAccountException>(() => aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default));

        Assert.Equal("CredentialsSecretInvalid", error.Reason);
        Assert.Contains("Secret team-a/aws-credentials has no non-empty key 'secretAccessKey'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AwsTestAccounts.AccessKeyId, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForAccountAsync_SourceSecretWithoutSecretRef_InvalidSpec()
    {
        using var aws = new AwsTestAccounts();
        var account = AwsTestAccounts.Account();
        account.Spec.Credentials.SecretRef = null;

        var error = await Assert.ThrowsAsync<AwsAccountException>(() => aws.Clients.ForAccountAsync(account, null, default));

        Assert.Equal("InvalidSpec", error.Reason);
        Assert.Contains("spec.credentials.secretRef.name is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_MoreCallsThanTheBurst_QueueAndAllSucceed()
    {
        // Burst 2, then one token every 50 ms: 6 calls take at least 4 × 50 ms, and none fails.
        using var aws = new AwsTestAccounts(new AwsClientOptions { Burst = 2, RequestsPerSecond = 20, RetiredSessionGrace = TimeSpan.Zero });
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => session.CallAsync("DescribeKey", (_, _) => Task.FromResult(i), default)));

        Assert.Equal([0, 1, 2, 3, 4, 5], results);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(180), $"6 calls with burst 2 at 20/s took only {clock.Elapsed}");
        Assert.Equal(6, aws.Metrics.Calls("kms", "DescribeKey", "success"));
    }

    [Fact]
    public async Task CallAsync_SessionsOfOneAccount_ShareOneBucket()
    {
        using var aws = new AwsTestAccounts(new AwsClientOptions { Burst = 1, RequestsPerSecond = 4, RetiredSessionGrace = TimeSpan.FromMinutes(1) });
        aws.PutSecret();
        var old = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);
        await old.CallAsync("ListKeys", (_, _) => Task.FromResult(0), default);

        aws.PutSecret(secretAccessKey: "AnotherSecretAccessKeyOfFortyCharacters00");
        var fresh = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);
        var clock = Stopwatch.StartNew();
        await fresh.CallAsync("ListKeys", (_, _) => Task.FromResult(0), default);

        Assert.NotSame(old, fresh);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(150), $"a new session of the same account got a fresh burst (waited {clock.Elapsed})");
    }

    [Fact]
    public async Task CallAsync_WaitingQueueFull_FailsThrottledWithoutCallingAws()
    {
        using var aws = new AwsTestAccounts(new AwsClientOptions { Burst = 1, RequestsPerSecond = 0.1, QueueLimit = 0, RetiredSessionGrace = TimeSpan.Zero });
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);
        await session.CallAsync("ListKeys", (_, _) => Task.FromResult(0), default);
        var called = false;

        var error = await Assert.ThrowsAsync<AwsAccountException>(() => session.CallAsync("ListKeys", (_, _) => Task.FromResult(called = true), default));

        Assert.Equal("Throttled", error.Reason);
        Assert.False(called);
        Assert.Equal("Throttled", AwsErrors.Describe(error).Reason);
    }

    [Fact]
    public async Task CallAsync_Failure_CountedByReasonAndRethrown()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(), null, default);

        await Assert.ThrowsAsync<AmazonServiceException>(() => session.CallAsync<int>(
            "CreateKey", (_, _) => throw new AmazonServiceException("slow down", ErrorType.Sender, "ThrottlingException", "r", System.Net.HttpStatusCode.BadRequest), default));

        Assert.Equal(1, aws.Metrics.Calls("kms", "CreateKey", "Throttled"));
    }
}
