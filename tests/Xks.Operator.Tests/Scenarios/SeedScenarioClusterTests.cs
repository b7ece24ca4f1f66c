using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Charts.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Scenarios.Tests;

/// <summary>
/// The seed scenario, automated: the repository's four samples applied with kubectl on the local control plane, the
/// operator as a process, the Vault's proxy as a local process, the KMS emulator standing in for AWS and calling the
/// proxy like AWS does; an image envelope-encrypted the way S3 SSE-KMS does it, unreadable while the CloudKey is
/// switched off and byte-for-byte readable again once it is back on. Then credential and key rotation under load,
/// deletion with both policies, and a crash between CreateKey and the status write. One namespace per test. The main
/// scenario also runs with the Vault on the PKCS#11 backend (a SoftHSM2 token of its own), adding a key rotation and a
/// look into the token with pkcs11-tool.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class SeedScenarioClusterTests(ITestOutputHelper output) : OperatorClusterTest("seed")
{
    private static readonly Dictionary<string, string> ImageContext = new(StringComparer.Ordinal)
    {
        ["aws:s3:arn"] = "arn:aws:s3:::seed-bucket/seed-image.png",
    };

    /// <summary>Where the final status objects of the four kinds are saved (the Argo CD health scripts run over them).</summary>
    public static string StatusDirectory => Path.Combine(AppContext.BaseDirectory, "seed-scenario");

    [Theory]
    [InlineData("Software")]
    [InlineData("Pkcs11")]
    public async Task Seed_SamplesAppliedOnALaptop_ImageUnreadableWhileTheCloudKeyIsOffAndByteForByteOnceOn(string keyBackend)
    {
        var clock = Stopwatch.StartNew();
        using var hsm = keyBackend == "Pkcs11" ? new SoftHsm() : null;
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(environment: hsm?.Environment), hsm);
        output.WriteLine($"{keyBackend}: four samples Ready after {clock.Elapsed.TotalSeconds:F1} s");

        var cloudKey = await seed.GetAsync("cloudkey/" + SeedEnvironment.CloudKeyName);
        var keyId = cloudKey["status"]!["keyId"]!.GetValue<string>();
        var xksKeyId = cloudKey["status"]!["xksKeyId"]!.GetValue<string>();
        var alias = await seed.Admin.ListAliasesAsync(new ListAliasesRequest { KeyId = keyId });
        Assert.Contains(alias.Aliases, a => a.AliasName == SeedEnvironment.Alias);

        // An object stored the S3 SSE-KMS way: a data key from KMS, the image encrypted locally, the wrapped key beside it.
        var image = await File.ReadAllBytesAsync(Path.Combine(LocalCluster.RepositoryRoot, "tests", "testassets", "seed-image.png"));
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, image, ImageContext);
        Assert.Equal(keyId, KeyIdOf(stored.KeyId));
        Assert.False(stored.Ciphertext.AsSpan().SequenceEqual(image));
        Assert.Equal(image, await seed.Envelope.DecryptAsync(stored));

        // The HYOK switch: the CloudKey off. KMS must refuse to unwrap the data key within seconds.
        await seed.PatchSpecAsync("cloudkey/" + SeedEnvironment.CloudKeyName, new { enabled = false });
        var switchedOff = Stopwatch.StartNew();
        var refusal = await FirstRefusalAsync(seed, stored, TimeSpan.FromSeconds(10));
        var refusedAfter = switchedOff.Elapsed;
        output.WriteLine($"first refused decrypt {refusedAfter.TotalMilliseconds:F0} ms after the switch: {refusal.GetType().Name} ({refusal.ErrorCode})");
        Assert.True(refusal is KMSInvalidStateException or DisabledException, $"{refusal.GetType().Name}: {refusal.Message}");

        // The proxy itself refuses the key (not only KMS): with KMSInvalidStateException it was the proxy's answer to
        // this very Decrypt; either way, asked directly, it reports the key DISABLED.
        if (refusal is KMSInvalidStateException)
        {
            await WaitForAuditedRefusalAsync(seed, xksKeyId);
        }

        await Eventually.HoldsAsync(
            async () => (await seed.ProxyKeyMetadataAsync(xksKeyId)) is { Status: 200 } m && m.Body.Contains("\"keyStatus\":\"DISABLED\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the proxy reports the key DISABLED");

        // The operator converges: the KMS key disabled to match, the CloudKey Ready with reason Disabled.
        await Eventually.HoldsAsync(
            async () => (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState == KeyState.Disabled,
            TimeSpan.FromSeconds(30), "the KMS key Disabled");
        await seed.WaitReadyAsync(resources: "cloudkey/" + SeedEnvironment.CloudKeyName);
        var disabled = await seed.GetAsync("cloudkey/" + SeedEnvironment.CloudKeyName);
        Assert.Equal("Disabled", ReadyCondition(disabled)?["reason"]?.GetValue<string>());
        var (disabledHealth, _) = await ArgoCdHealthScript.RunAsync("CloudKey", await WhenObservedAsync(seed, "cloudkey/" + SeedEnvironment.CloudKeyName));
        Assert.Equal("Healthy", disabledHealth);

        // On again: the same stored object decrypts byte for byte.
        await seed.PatchSpecAsync("cloudkey/" + SeedEnvironment.CloudKeyName, new { enabled = true });
        var switchedOn = Stopwatch.StartNew();
        byte[]? reopened = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                try
                {
                    reopened = await seed.Envelope.DecryptAsync(stored);
                    return true;
                }
                catch (AmazonKeyManagementServiceException ex) when (ex is KMSInvalidStateException or DisabledException)
                {
                    await Task.Delay(100);
                    return false;
                }
            },
            TimeSpan.FromSeconds(30), "the image decrypts again");
        output.WriteLine($"decrypts again {switchedOn.Elapsed.TotalMilliseconds:F0} ms after the switch back");
        Assert.Equal(SHA256.HashData(image), SHA256.HashData(reopened!));
        Assert.Equal(image, reopened);
        await seed.WaitReadyAsync();
        Assert.Equal("Enabled", (await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyState")));

        // The key store's kill switch acts in the proxy alone (KMS keeps the key Enabled): KMS reports the proxy's
        // refusal as KMSInvalidStateException, the error the issue names for the HYOK switch.
        await seed.PatchSpecAsync("keyset/" + SeedEnvironment.KeySetName, new { blocked = true });
        var blocked = Stopwatch.StartNew();
        var blockedRefusal = await FirstRefusalAsync(seed, stored, TimeSpan.FromSeconds(10));
        output.WriteLine($"KeySet blocked: first refused decrypt {blocked.Elapsed.TotalMilliseconds:F0} ms after the switch: {blockedRefusal.GetType().Name}");
        Assert.True(blockedRefusal is KMSInvalidStateException, $"{blockedRefusal.GetType().Name}: {blockedRefusal.Message}");
        await WaitForAuditedRefusalAsync(seed, xksKeyId);
        Assert.Equal(KeyState.Enabled, (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState);
        await seed.PatchSpecAsync("keyset/" + SeedEnvironment.KeySetName, new { blocked = false });
        await Eventually.HoldsAsync(async () => await DecryptsAsync(seed, stored, image), TimeSpan.FromSeconds(30), "the image decrypts once the key store is unblocked");
        await seed.WaitReadyAsync();

        // Argo CD's view of the real objects: all four Healthy. Saved for anyone who wants to look at them.
        Directory.CreateDirectory(StatusDirectory);
        foreach (var (kind, resource) in SeedEnvironment.Samples)
        {
            var json = await WhenObservedAsync(seed, resource);
            await File.WriteAllTextAsync(Path.Combine(StatusDirectory, kind.ToLowerInvariant() + ".json"), json);
            var (status, message) = await ArgoCdHealthScript.RunAsync(kind, json);
            Assert.True(status == "Healthy", $"{kind}: {status} {message}\n{json}");
            output.WriteLine($"Argo CD: {kind} {status} — {message}");
        }

        // And of objects that cannot converge: a CloudKey whose KeySet does not exist is not Healthy.
        await seed.KubectlAsync("apply -f -", """
            apiVersion: xks.dev/v1alpha1
            kind: CloudKey
            metadata: {name: orphan}
            spec: {keySetRef: {name: missing}, enabled: false, deletionPolicy: Delete, pendingWindowDays: 7}
            """);
        var orphan = await WhenObservedAsync(seed, "cloudkey/orphan", requireReadyCondition: true);
        var (orphanStatus, orphanMessage) = await ArgoCdHealthScript.RunAsync("CloudKey", orphan);
        Assert.True(orphanStatus is "Progressing" or "Degraded", $"{orphanStatus} {orphanMessage}\n{orphan}");
        Assert.NotEmpty(orphanMessage);
        output.WriteLine($"Argo CD: orphan CloudKey {orphanStatus} — {orphanMessage}");

        if (hsm is not null)
        {
            await RotateAndInspectTokenAsync(seed, stored, image);
        }

        AssertNoSecretsIn(seed, await seed.TrySecretAsync(SeedEnvironment.CredentialSecretName));
        output.WriteLine($"{keyBackend}: scenario took {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// PKCS#11 only: a key rotation made inside the HSM (the image from before still opens, a new object under the new
    /// version), then the token as pkcs11-tool sees it — only AES-256 secret keys, sensitive, never extractable, no
    /// other usage than encrypt and decrypt: one per CloudKey version recorded in the key-material Secret, and the
    /// proxy's health key.
    /// </summary>
    private async Task RotateAndInspectTokenAsync(SeedEnvironment seed, EnvelopeObject stored, byte[] image)
    {
        var cloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;
        var xksKeyId = (await seed.StatusFieldAsync(cloudKey, "xksKeyId"))!;
        await seed.AnnotateAsync(cloudKey, "xks.dev/rotate-key", Guid.NewGuid().ToString("N"));
        await Eventually.HoldsAsync(async () => await seed.StatusFieldAsync(cloudKey, "currentVersion") == "2", TimeSpan.FromSeconds(60), "key version 2");
        // The proxy picks up version 2 from its watched config a moment after the Secret records it.
        await Eventually.HoldsAsync(
            async () =>
            {
                var fresh = RandomNumberGenerator.GetBytes(300);
                try
                {
                    return (await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, ImageContext))).AsSpan().SequenceEqual(fresh);
                }
                catch (AmazonKeyManagementServiceException ex)
                {
                    output.WriteLine($"round trip right after the rotation: {ex.GetType().Name}: {ex.Message}");
                    await Task.Delay(100);
                    return false;
                }
            },
            TimeSpan.FromSeconds(20), "a round trip under version 2");
        Assert.Equal(image, await seed.Envelope.DecryptAsync(stored));

        var material = (await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!.Data["versions.json"];
        var document = JsonNode.Parse(material)!;
        Assert.Equal("pkcs11", document["backend"]?.GetValue<string>());
        var versions = document["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()).ToList();
        Assert.Equal([1, 2], versions);
        Assert.DoesNotContain("wrappedMaterial", System.Text.Encoding.UTF8.GetString(material), StringComparison.Ordinal);

        var objects = seed.ListTokenObjects();
        foreach (var (header, attributes) in objects)
        {
            output.WriteLine($"pkcs11-tool: {header}; label {attributes.GetValueOrDefault("label")}; usage {attributes.GetValueOrDefault("Usage")}; access {attributes.GetValueOrDefault("Access")}");
            Assert.Equal("Secret Key Object; AES length 32", header);
            var access = attributes["Access"].Split(", ");
            Assert.Contains("sensitive", access);
            Assert.Contains("never extractable", access);
            Assert.DoesNotContain("extractable", access);
            // derive: the version key makes the proxy's per-process sub-keys inside the token (docs/security.md, random IVs).
            Assert.Equal("encrypt, decrypt, derive", attributes["Usage"]);
        }

        var labels = objects.Select(o => o.Attributes["label"]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            [.. versions.Select(v => $"{xksKeyId}/v{v}").Append("xks-proxy-health").Order(StringComparer.Ordinal)],
            labels);
    }

    [Fact]
    public async Task KeySet_CredentialRotatedWhileEncryptingInALoop_NoRequestFails()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var keySet = "keyset/" + SeedEnvironment.KeySetName;
        var before = await seed.StatusFieldAsync(keySet, "lastRotationTime");
        var oldAccessKeyId = Text((await seed.TrySecretAsync(SeedEnvironment.CredentialSecretName))!.Data["accessKeyId"]);

        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => seed.RoundTripsAsync(ImageContext, stop.Token));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await seed.AnnotateAsync(keySet, "xks.dev/rotate-credential", Guid.NewGuid().ToString("N"));

        await Eventually.HoldsAsync(
            async () =>
            {
                var secret = await seed.TrySecretAsync(SeedEnvironment.CredentialSecretName);
                var rotated = await seed.StatusFieldAsync(keySet, "lastRotationTime");
                return secret is not null && Text(secret.Data["accessKeyId"]) != oldAccessKeyId && !secret.Data.ContainsKey("pendingAccessKeyId")
                    && rotated is not null && rotated != before;
            },
            TimeSpan.FromSeconds(90), "credential rotated (new accessKeyId, lastRotationTime advanced)");
        await seed.WaitReadyAsync(resources: keySet);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        var (succeeded, failures) = await load;

        output.WriteLine($"{succeeded} GenerateDataKey+Decrypt round trips during the rotation, {failures.Count} failed");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(succeeded > 10, $"only {succeeded} round trips");
        var after = await seed.StatusFieldAsync(keySet, "lastRotationTime");
        Assert.True(before is null || DateTimeOffset.Parse(after!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.Parse(before, System.Globalization.CultureInfo.InvariantCulture), $"{before} → {after}");

        // The proxy now accepts the new credential only once the old one is dropped.
        var xksKeyId = (await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "xksKeyId"))!;
        Assert.Equal(200, (await seed.ProxyKeyMetadataAsync(xksKeyId)).Status);
        AssertNoSecretsIn(seed, await seed.TrySecretAsync(SeedEnvironment.CredentialSecretName));
    }

    [Fact]
    public async Task CloudKey_RotatedOnDemand_ObjectsEncryptedBeforeStillDecrypt()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var cloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;
        var versionBefore = await seed.StatusFieldAsync(cloudKey, "currentVersion");
        var old = new List<(byte[] Content, EnvelopeObject Stored)>();
        for (var i = 0; i < 3; i++)
        {
            var content = RandomNumberGenerator.GetBytes(1000 + i);
            old.Add((content, await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, ImageContext)));
        }

        await seed.AnnotateAsync(cloudKey, "xks.dev/rotate-key", Guid.NewGuid().ToString("N"));
        await Eventually.HoldsAsync(
            async () => await seed.StatusFieldAsync(cloudKey, "currentVersion") is { } v && v != versionBefore,
            TimeSpan.FromSeconds(60), "a new key version");
        var material = await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName);
        var versions = JsonNode.Parse(material!.Data["versions.json"])!["versions"]!.AsArray();
        Assert.True(versions.Count >= 2, material.Data["versions.json"].Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        output.WriteLine($"currentVersion {versionBefore} → {await seed.StatusFieldAsync(cloudKey, "currentVersion")}");

        // Objects from before decrypt (the proxy finds the old version from the ciphertext metadata); new ones too.
        await Eventually.HoldsAsync(
            async () =>
            {
                var fresh = RandomNumberGenerator.GetBytes(500);
                return (await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, ImageContext))).AsSpan().SequenceEqual(fresh);
            },
            TimeSpan.FromSeconds(20), "a round trip under the new version");
        foreach (var (content, stored) in old)
        {
            Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        }

        await seed.WaitReadyAsync(resources: cloudKey);
    }

    [Fact]
    public async Task CloudKey_DeletedWithRetainAndWithDelete_KmsKeyKeptOrScheduledAndTheMaterialKept()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var content = RandomNumberGenerator.GetBytes(256);
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, ImageContext);
        var retainedKeyId = (await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"))!;

        // Retain (the sample's policy): the CR goes, the KMS key stays usable, the key material stays.
        await seed.KubectlAsync($"delete cloudkey/{SeedEnvironment.CloudKeyName} --wait=true --timeout=60s");
        Assert.Null(await seed.TryGetAsync("cloudkey/" + SeedEnvironment.CloudKeyName));
        Assert.Equal(KeyState.Enabled, (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = retainedKeyId })).KeyMetadata.KeyState);
        Assert.NotNull(await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName));

        // Delete: a second CloudKey with deletionPolicy Delete — the KMS key is scheduled for deletion, the CR goes, and
        // the key material stays until KMS has actually deleted the key.
        await seed.KubectlAsync("apply -f -", """
            apiVersion: xks.dev/v1alpha1
            kind: CloudKey
            metadata: {name: scratch}
            spec: {keySetRef: {name: payments}, alias: payments/scratch, deletionPolicy: Delete, pendingWindowDays: 7}
            """);
        await seed.WaitReadyAsync(resources: "cloudkey/scratch");
        var scratchKeyId = (await seed.StatusFieldAsync("cloudkey/scratch", "keyId"))!;
        await seed.KubectlAsync("delete cloudkey/scratch --wait=true --timeout=60s");
        Assert.Null(await seed.TryGetAsync("cloudkey/scratch"));
        var scheduled = (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = scratchKeyId })).KeyMetadata;
        Assert.Equal(KeyState.PendingDeletion, scheduled.KeyState);
        Assert.NotNull(scheduled.DeletionDate);
        Assert.NotNull(await seed.TrySecretAsync("scratch-key-material"));

        // The retained key still serves: objects encrypted before the CloudKey was deleted decrypt.
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
    }

    [Fact]
    public async Task Operator_KilledBetweenCreateKeyAndItsStatusWrite_RestartLeavesExactlyOneKmsKey()
    {
        await using var seed = await SeedEnvironment.CreateAsync(Cluster, Ns, () => StartOperatorAsync());
        var gate = seed.Kms.Hold("CreateKey");
        await seed.StartOperatorAsync();
        await seed.RunProxyAsync();

        // CreateKey has made the key in KMS; the operator waits for the answer and never gets it.
        var reached = await Task.WhenAny(gate.Reached, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(reached == gate.Reached, "the operator did not call CreateKey within 120 s:\n" + SeedEnvironment.Tail(seed.Operator?.Output));
        await seed.KillOperatorAsync();
        gate.Release();
        Assert.Null(await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"));

        await seed.StartOperatorAsync();
        await seed.WaitReadyAsync();

        var uid = (await seed.GetAsync("cloudkey/" + SeedEnvironment.CloudKeyName))["metadata"]!["uid"]!.GetValue<string>();
        var tagged = await seed.KeysTaggedWithAsync(uid);
        var keyId = Assert.Single(tagged);
        Assert.Equal(keyId, await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"));
        Assert.Single(await seed.ListKeyIdsAsync());
        output.WriteLine($"CreateKey calls: {seed.Kms.CallCount("CreateKey")}; KMS keys tagged with the CloudKey's UID: {tagged.Count}");

        var content = RandomNumberGenerator.GetBytes(64);
        Assert.Equal(content, await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, ImageContext)));
    }

    private static async Task<bool> DecryptsAsync(SeedEnvironment seed, EnvelopeObject stored, byte[] expected)
    {
        try
        {
            return (await seed.Envelope.DecryptAsync(stored)).AsSpan().SequenceEqual(expected);
        }
        catch (AmazonKeyManagementServiceException)
        {
            await Task.Delay(100);
            return false;
        }
    }

    /// <summary>Decrypts every 50 ms until KMS refuses; fails when it still works after <paramref name="within"/>.</summary>
    private static async Task<AmazonKeyManagementServiceException> FirstRefusalAsync(SeedEnvironment seed, EnvelopeObject stored, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await seed.Envelope.DecryptAsync(stored);
            }
            catch (AmazonKeyManagementServiceException ex)
            {
                return ex;
            }

            Assert.True(clock.Elapsed < within, $"decrypt still works {within.TotalSeconds} s after enabled: false\n--- operator:\n{SeedEnvironment.Tail(seed.Operator?.Output)}");
            await Task.Delay(50);
        }
    }

    /// <summary>GenerateDataKey + Decrypt round trips until cancelled: how many worked, and what failed.</summary>
    /// <summary>
    /// The object once the operator has written status for its current generation (what Argo CD would judge at rest);
    /// with <paramref name="requireReadyCondition"/> also once a Ready condition is there.
    /// </summary>
    private static async Task<string> WhenObservedAsync(SeedEnvironment seed, string resource, bool requireReadyCondition = false)
    {
        JsonNode? node = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                node = await seed.GetAsync(resource);
                var generation = node["metadata"]?["generation"]?.GetValue<long>();
                var observed = node["status"]?["observedGeneration"]?.GetValue<long>();
                return observed == generation && (!requireReadyCondition || ReadyCondition(node) is not null);
            },
            TimeSpan.FromSeconds(60), $"{resource} observed");
        return node!.ToJsonString();
    }

    private static JsonNode? ReadyCondition(JsonNode node) =>
        node["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.GetValue<string>() == "Ready");

    /// <summary>Waits for the proxy's audit line of a Decrypt of <paramref name="xksKeyId"/> it refused.</summary>
    private static async Task WaitForAuditedRefusalAsync(SeedEnvironment seed, string xksKeyId)
    {
        var clock = Stopwatch.StartNew();
        // A request refused for a blocked key store is audited before its body is read: no keyId then, but the key store.
        while (!AuditLines(seed.Proxy!.Output).Any(r =>
                   Str(r, "operation") == "Decrypt" && Str(r, "keyStore") == SeedEnvironment.KeySetName
                   && (Str(r, "keyId") ?? xksKeyId) == xksKeyId && Str(r, "outcome") is { } outcome && outcome != "Success"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "no audit line of a refused Decrypt; the proxy's last audit lines:\n" + string.Join('\n', AuditLines(seed.Proxy.Output).TakeLast(5)));
            await Task.Delay(50);
        }
    }

    private static IEnumerable<JsonElement> AuditLines(string proxyOutput) =>
        proxyOutput.Split('\n')
            .Where(line => line.StartsWith('{') && line.Contains("xks-audit", StringComparison.Ordinal))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone());

    private static string? Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>No secret of the scenario appears in what the operator or the proxy printed.</summary>
    private static void AssertNoSecretsIn(SeedEnvironment seed, k8s.Models.V1Secret? credential)
    {
        var secrets = new List<string> { seed.OperatorSecretAccessKey, seed.ApplicationSecretAccessKey, seed.MasterKeyBase64 ?? "", seed.Pin ?? "" };
        if (credential is not null)
        {
            secrets.AddRange(credential.Data.Where(d => d.Key.Contains("secret", StringComparison.OrdinalIgnoreCase)).Select(d => Text(d.Value)));
        }

        foreach (var (name, text) in new[] { ("operator", seed.Operator?.Output ?? ""), ("proxy", seed.Proxy?.Output ?? "") })
        {
            foreach (var secret in secrets.Where(s => s.Length >= 16))
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"the {name} printed a secret");
            }
        }
    }

    /// <summary>The key id of a key ARN (GenerateDataKey answers with the ARN).</summary>
    private static string KeyIdOf(string keyIdOrArn) => keyIdOrArn.Contains(":key/", StringComparison.Ordinal) ? keyIdOrArn[(keyIdOrArn.LastIndexOf('/') + 1)..] : keyIdOrArn;

    private static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}
