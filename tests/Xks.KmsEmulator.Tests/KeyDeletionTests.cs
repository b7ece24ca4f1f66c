using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests;

/// <summary>
/// The end of a key scheduled for deletion, as AWS does it: after its DeletionDate the key, its aliases and its grants
/// are gone and every call naming it answers NotFoundException; before, CancelKeyDeletion brings it back. A day of the
/// pending window lasts <see cref="KmsEmulatorOptions.PendingWindowUnit"/> (short here, so nobody waits a week).
/// </summary>
public sealed class KeyDeletionTests
{
    private const string Grantee = $"arn:aws:iam::{EmulatorHarness.Account}:role/ebs-service";
    private static readonly TimeSpan Unit = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task ScheduleKeyDeletion_WindowPassed_KeyAliasAndGrantsAreGone()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = Unit);
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        var other = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/doomed", TargetKeyId = key.KeyId });
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/survivor", TargetKeyId = other.KeyId });
        var grant = await emulator.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = key.KeyId, GranteePrincipal = Grantee, Operations = [GrantOperation.Decrypt] });

        var scheduled = await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });
        var pending = (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/doomed" })).KeyMetadata;
        Assert.Equal(KeyState.PendingDeletion, pending.KeyState);
        Assert.Single((await emulator.Kms.ListGrantsAsync(new ListGrantsRequest { KeyId = key.Arn })).Grants);

        await WaitPastAsync(scheduled.DeletionDate!.Value);

        await Assert.ThrowsAsync<NotFoundException>(() => emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.Arn }));
        Assert.Equal([other.KeyId], (await emulator.Kms.ListKeysAsync(new ListKeysRequest())).Keys.Select(k => k.KeyId));
        Assert.Equal(["alias/survivor"], (await emulator.Kms.ListAliasesAsync(new ListAliasesRequest())).Aliases.Select(a => a.AliasName));
        await Assert.ThrowsAsync<NotFoundException>(() => emulator.Kms.ListGrantsAsync(new ListGrantsRequest { KeyId = key.Arn }));
        // The grant's token no longer finds it: the grants died with the key.
        await Assert.ThrowsAsync<InvalidGrantTokenException>(() => emulator.Kms.RetireGrantAsync(new RetireGrantRequest { GrantToken = grant.GrantToken }));
        // The alias name is free again.
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/doomed", TargetKeyId = other.KeyId });
        Assert.Equal(other.KeyId, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/doomed" })).KeyMetadata.KeyId);
    }

    [Fact]
    public async Task DeletedKey_EveryCallNamingIt_AnswersNotFoundLikeAnUnknownKey()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = Unit);
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/gone", TargetKeyId = key.KeyId });
        var blob = (await emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new MemoryStream([1, 2, 3]) })).CiphertextBlob.ToArray();
        var scheduled = await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.Arn, PendingWindowInDays = 7 });

        await WaitPastAsync(scheduled.DeletionDate!.Value);

        var calls = new List<(string Call, Func<Task> Run)>();
        foreach (var name in new[] { key.KeyId, key.Arn, "alias/gone", "arn:aws:kms:us-east-1:111122223333:alias/gone" })
        {
            calls.Add(($"DescribeKey {name}", () => emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = name })));
            calls.Add(($"Encrypt {name}", () => emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = name, Plaintext = new MemoryStream([1]) })));
            calls.Add(($"GenerateDataKey {name}", () => emulator.Kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = name, KeySpec = DataKeySpec.AES_256 })));
        }

        foreach (var name in new[] { key.KeyId, key.Arn })
        {
            calls.Add(($"CancelKeyDeletion {name}", () => emulator.Kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = name })));
            calls.Add(($"ScheduleKeyDeletion {name}", () => emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = name, PendingWindowInDays = 7 })));
            calls.Add(($"EnableKey {name}", () => emulator.Kms.EnableKeyAsync(new EnableKeyRequest { KeyId = name })));
            calls.Add(($"GetKeyPolicy {name}", () => emulator.Kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = name, PolicyName = "default" })));
            calls.Add(($"ListResourceTags {name}", () => emulator.Kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = name })));
            calls.Add(($"CreateGrant {name}", () => emulator.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = name, GranteePrincipal = Grantee, Operations = [GrantOperation.Decrypt] })));
            calls.Add(($"CreateAlias to {name}", () => emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/new", TargetKeyId = name })));
        }

        calls.Add(("Decrypt of its ciphertext", () => emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob) })));

        foreach (var (call, run) in calls)
        {
            var error = await Record.ExceptionAsync(run);
            Assert.True(error is NotFoundException, $"{call}: {error?.GetType().Name ?? "succeeded"} ({error?.Message})");
        }
    }

    [Fact]
    public async Task CancelKeyDeletion_BeforeTheDate_KeyStays()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = Unit);
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/kept", TargetKeyId = key.KeyId });
        var scheduled = await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });

        await emulator.Kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key.KeyId });
        await WaitPastAsync(scheduled.DeletionDate!.Value);

        var described = (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/kept" })).KeyMetadata;
        Assert.Equal(key.KeyId, described.KeyId);
        Assert.Equal(KeyState.Disabled, described.KeyState);
        Assert.Null(described.DeletionDate);
        await emulator.Kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId });
        var blob = (await emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = "alias/kept", Plaintext = new MemoryStream([9]) })).CiphertextBlob;
        Assert.Equal([9], (await emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = blob })).Plaintext.ToArray());
    }

    [Fact]
    public async Task ScheduleKeyDeletion_BeforeTheDate_KeyIsPendingDeletionNotGone()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = TimeSpan.FromMinutes(1));
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });

        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(KeyState.PendingDeletion, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.Arn })).KeyMetadata.KeyState);
        Assert.Single((await emulator.Kms.ListKeysAsync(new ListKeysRequest())).Keys);
    }

    [Fact]
    public async Task PendingWindowUnit_Seconds_DeletionDateIsThatManySeconds()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = TimeSpan.FromSeconds(1));
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        var before = DateTime.UtcNow;

        var scheduled = await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 10 });

        var after = DateTime.UtcNow;
        Assert.Equal(10, scheduled.PendingWindowInDays);
        Assert.InRange(scheduled.DeletionDate!.Value, before.AddSeconds(9.9), after.AddSeconds(10.1));
        var described = (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata;
        Assert.Equal(scheduled.DeletionDate!.Value, described.DeletionDate!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal(10, described.PendingDeletionWindowInDays);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(31)]
    public async Task PendingWindowUnit_Seconds_WindowStillValidatedAsSevenToThirtyDays(int days)
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = TimeSpan.FromSeconds(1));
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() =>
            emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = days }));

        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal(KeyState.Enabled, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata.KeyState);
    }

    [Fact]
    public void PendingWindowUnit_Default_IsADayAsInAws() =>
        Assert.Equal(TimeSpan.FromDays(1), new KmsEmulatorOptions().PendingWindowUnit);

    [Fact]
    public async Task StartAsync_PendingWindowUnitNotPositive_Throws()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => EmulatorHarness.StartAsync(configure: o => o.PendingWindowUnit = TimeSpan.Zero));

        Assert.Contains("PendingWindowUnit", error.ParamName, StringComparison.Ordinal);
    }

    /// <summary>Waits until the emulator's clock (the system's, in UTC like the SDK's dates) is past <paramref name="date"/>.</summary>
    private static async Task WaitPastAsync(DateTime date)
    {
        var left = date - DateTime.UtcNow + TimeSpan.FromMilliseconds(100);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }
    }
}
