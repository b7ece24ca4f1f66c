using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The end of key material, end to end on the seed scenario (docs/key-custody.md): a CloudKey deleted with
/// deletionPolicy Delete schedules its KMS key's deletion and its material is kept while the key could be restored;
/// once KMS has really deleted the key (the emulator's pending-window day lasts <see cref="Day"/>), the KeySet — looking
/// again at the deletion date on its own, not at a resync — destroys the material. The seed's own key is untouched.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class MaterialDestructionClusterTests(ITestOutputHelper output) : OperatorClusterTest("destroy")
{
    /// <summary>One day of PendingWindowInDays in the emulator: pendingWindowDays 7 is 14 s.</summary>
    private static readonly TimeSpan Day = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["aws:s3:arn"] = "arn:aws:s3:::destroy/object" };

    [Fact]
    public async Task DeletedCloudKey_KmsKeyDeletedAfterItsWindow_MaterialIsDestroyedAndTheSeedKeyKeepsServing()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(), configureKms: o => o.PendingWindowUnit = Day);
        var content = RandomNumberGenerator.GetBytes(96);
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        await seed.KubectlAsync("apply -f -", """
            apiVersion: xks.dev/v1alpha1
            kind: CloudKey
            metadata: {name: short-lived}
            spec: {keySetRef: {name: payments}, alias: payments/short-lived, deletionPolicy: Delete, pendingWindowDays: 7}
            """);
        await seed.WaitReadyAsync(Within, "cloudkey/short-lived");
        var arn = (await seed.StatusFieldAsync("cloudkey/short-lived", "arn"))!;
        const string material = "short-lived-key-material";
        var secret = "under the short-lived key"u8.ToArray();
        var blob = (await seed.Admin.EncryptAsync(new EncryptRequest { KeyId = arn, Plaintext = new MemoryStream(secret) })).CiphertextBlob.ToArray();
        Assert.Equal(secret, (await seed.Admin.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob) })).Plaintext.ToArray());

        await seed.KubectlAsync("delete cloudkey/short-lived --wait=true --timeout=60s");

        // Right after: KMS could still restore the key (CancelKeyDeletion), so its material is kept, released with the date.
        var pending = (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = arn })).KeyMetadata;
        Assert.Equal(KeyState.PendingDeletion, pending.KeyState);
        var kept = await seed.TrySecretAsync(material);
        Assert.NotNull(kept);
        Assert.Null(kept.Metadata.DeletionTimestamp);
        var marks = KeyMaterialMarks.Of(kept);
        Assert.True(marks.ReleasedForDeletion);
        Assert.Equal(arn, marks.KmsKeyArn);
        var deletionDate = marks.DeletionDate!.Value;
        Assert.Equal(pending.DeletionDate!.Value, deletionDate.UtcDateTime, TimeSpan.FromSeconds(1));
        output.WriteLine($"KMS key {arn} pending deletion until {deletionDate:O}");

        // Then KMS deletes the key, and the operator destroys the material — never the other way round.
        var took = await Eventually.HoldsAsync(async () =>
        {
            if (await seed.TrySecretAsync(material) is not null)
            {
                return false;
            }

            Assert.True(DateTimeOffset.UtcNow >= deletionDate, $"the material was destroyed before the deletion date {deletionDate:O}");
            await Assert.ThrowsAsync<NotFoundException>(() => seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = arn }));
            return true;
        }, Within, $"Secret {material} destroyed after KMS deleted {arn}");
        output.WriteLine($"material destroyed {took.TotalSeconds:F1} s after the CloudKey was deleted");

        var events = (await Client.CoreV1.ListNamespacedEventAsync(Ns)).Items;
        Assert.Contains(events, e => e.Type == "Normal" && e.Reason == Reasons.KeyMaterialDestroyed
            && e.InvolvedObject.Kind == "KeySet" && e.InvolvedObject.Name == SeedEnvironment.KeySetName
            && e.Message.Contains(material, StringComparison.Ordinal) && e.Message.Contains("deleted by AWS", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Reason == Reasons.KeyMaterialKept);
        await Assert.ThrowsAsync<NotFoundException>(() => seed.Admin.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob) }));
        await Assert.ThrowsAsync<NotFoundException>(() => seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/payments/short-lived" }));

        // The seed's own key is untouched: Ready, its material kept, and what it encrypted before still decrypts.
        await seed.WaitReadyAsync(Within);
        Assert.NotNull(await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName));
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        var fresh = RandomNumberGenerator.GetBytes(64);
        Assert.Equal(fresh, await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, Context)));
    }
}
