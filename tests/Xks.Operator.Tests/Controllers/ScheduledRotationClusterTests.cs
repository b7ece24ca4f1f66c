using System.Text;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// Rotation on schedule (not on demand): with credentialRotation.every and rotation.every at their 1-minute minimum,
/// the KeySet's credential and the CloudKey's key material both rotate on their own, and what was encrypted before
/// still decrypts. About 70 seconds of waiting, so one test covers both.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ScheduledRotationClusterTests() : OperatorClusterTest("schedule")
{
    [Fact]
    public async Task RotationEveryMinute_CredentialAndKeyVersionRotateOnTheirOwn()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(extraArguments: "--credential-grace-period 5s"));
        var before = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "before the rotation"u8.ToArray(), new Dictionary<string, string>());
        var accessKeyId = AccessKeyId(await seed.TrySecretAsync(SeedEnvironment.CredentialSecretName));
        var version = await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "currentVersion");
        var sample = (await seed.GetAsync("cloudkey/" + SeedEnvironment.CloudKeyName))["status"];
        Assert.Equal(Time(sample?["currentVersionCreatedTime"]?.ToString()) + TimeSpan.FromHours(8760), Time(sample?["nextRotationTime"]?.ToString())); // the sample's rotation.every

        await seed.PatchSpecAsync("keyset/" + SeedEnvironment.KeySetName, new { credentialRotation = new { every = "1m" } });
        await seed.PatchSpecAsync("cloudkey/" + SeedEnvironment.CloudKeyName, new { rotation = new { every = "1m" } });

        await Eventually.HoldsAsync(
            async () => AccessKeyId(await seed.TrySecretAsync(SeedEnvironment.CredentialSecretName)) != accessKeyId
                && await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "currentVersion") != version,
            TimeSpan.FromSeconds(240), "the credential and the key version rotated by schedule");

        await seed.WaitReadyAsync(TimeSpan.FromSeconds(60), "keyset/" + SeedEnvironment.KeySetName, "cloudkey/" + SeedEnvironment.CloudKeyName);
        // status says when the version was made and when the next one is due (what the rotation metric and alert read).
        var status = (await seed.GetAsync("cloudkey/" + SeedEnvironment.CloudKeyName))["status"];
        var created = Time(status?["currentVersionCreatedTime"]?.ToString());
        Assert.Equal(created + TimeSpan.FromMinutes(1), Time(status?["nextRotationTime"]?.ToString()));
        Assert.InRange(created, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5));
        Assert.Equal("before the rotation"u8.ToArray(), await seed.Envelope.DecryptAsync(before));
        var after = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "after the rotation"u8.ToArray(), new Dictionary<string, string>());
        Assert.Equal("after the rotation"u8.ToArray(), await seed.Envelope.DecryptAsync(after));
    }

    private static DateTimeOffset Time(string? value) =>
        DateTimeOffset.Parse(value ?? throw new Xunit.Sdk.XunitException("the status field is not set"), System.Globalization.CultureInfo.InvariantCulture);

    private static string? AccessKeyId(k8s.Models.V1Secret? secret) =>
        secret?.Data is { } data && data.TryGetValue("accessKeyId", out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
