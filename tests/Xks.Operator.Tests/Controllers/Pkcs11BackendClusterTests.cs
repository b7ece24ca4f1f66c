using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// A Vault on the PKCS#11 backend against the operator process and a SoftHSM2 token of the test's own (SOFTHSM2_CONF
/// passed to the operator): the PIN Secret and the HSM reported in conditions, and CloudKey versions generated in the
/// token — adopted when a crash left them there — and recorded without material. No proxy runs here (the seed
/// scenario covers serving).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class Pkcs11BackendClusterTests() : OperatorClusterTest("pkcs11"), IDisposable
{
    private const string Token = "op-cluster";
    private readonly string _pin = "pin-" + Guid.NewGuid().ToString("N");
    private readonly SoftHsm _hsm = new();
    private bool _initialized;

    public void Dispose() => _hsm.Dispose();

    /// <summary>The token, initialised on first use (the primary constructor is the base class's).</summary>
    private SoftHsm Hsm()
    {
        if (!_initialized)
        {
            _hsm.InitToken(Token, _pin);
            _initialized = true;
        }

        return _hsm;
    }

    [Fact]
    public async Task Vault_PinSecretMissingThenWrongThenRight_ConditionsSayWhyAndNoMasterKeyIsMade()
    {
        await using var op = await StartOperatorAsync(environment: Hsm().Environment);
        await ApplyAsync(Vault("hsm", Hsm().LibraryPath));

        var missing = await WaitForVaultAsync("hsm", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.HsmAvailable) is not null);
        Assert.Equal(("False", "PinSecretNotFound"), ReadyOf(missing));
        Assert.Contains("PIN Secret hsm-pin", Conditions.Get(missing.Status!.Conditions, ConditionTypes.HsmAvailable)!.Message, StringComparison.Ordinal);
        var deployment = await WaitForAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("hsm-proxy", Ns), "the proxy Deployment");
        Assert.Equal(["hsm-pin", "hsm-tls"], deployment.Spec.Template.Spec.Volumes.Where(v => v.Secret is not null).Select(v => v.Secret.SecretName).Order(StringComparer.Ordinal));

        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        await Client.CoreV1.CreateNamespacedSecretAsync(PinSecret(wrong), Ns);
        var refused = await WaitForVaultAsync("hsm", v => Conditions.Get(v.Status?.Conditions, ConditionTypes.HsmAvailable)?.Reason == "HsmUnavailable");
        var refusal = Conditions.Get(refused.Status!.Conditions, ConditionTypes.HsmAvailable)!.Message!;
        Assert.Contains("wrong PIN", refusal, StringComparison.Ordinal);
        Assert.Equal(("False", "HsmUnavailable"), ReadyOf(refused));

        await Client.CoreV1.ReplaceNamespacedSecretAsync(PinSecret(_pin), "hsm-pin", Ns);
        var loggedIn = await WaitForVaultAsync("hsm", v => Conditions.IsTrue(v.Status?.Conditions, ConditionTypes.HsmAvailable));
        Assert.Contains($"token '{Token}'", Conditions.Get(loggedIn.Status!.Conditions, ConditionTypes.HsmAvailable)!.Message, StringComparison.Ordinal);
        Assert.NotEqual("HsmUnavailable", ReadyOf(loggedIn).Reason);

        Assert.Null(await TryAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("hsm-master-key", Ns)));
        foreach (var text in new[] { op.Output, KubernetesJson.Serialize(loggedIn), (await Cluster.KubectlAsync($"get events -n {Ns} -o json")).StandardOutput })
        {
            Assert.DoesNotContain(_pin, text, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CloudKey_Pkcs11Vault_VersionsMadeInTheTokenAdoptedAfterACrashAndRecordedWithoutMaterial()
    {
        // The library path wrong first (an allowed one, Fedora's, that this machine does not have): the CloudKey says why it waits.
        Assert.False(File.Exists(MissingLibrary));
        await Client.CoreV1.CreateNamespacedSecretAsync(PinSecret(_pin), Ns);
        await ApplyAsync(Vault("hsm", MissingLibrary));
        await ApplyAsync("""
            apiVersion: xks.dev/v1alpha1
            kind: KeySet
            metadata: {name: payments}
            spec: {vaultRef: {name: hsm}, cspAccountRef: {name: production}}
            ---
            apiVersion: xks.dev/v1alpha1
            kind: CloudKey
            metadata: {name: payments-db}
            spec: {keySetRef: {name: payments}}
            """);

        // A crash of an earlier operator right after the HSM made version 1: the object is there, no Secret records it.
        var key = KubernetesJson.Deserialize<V1Alpha1CloudKey>(KubernetesJson.Serialize(
            await Client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, "cloudkeys", "payments-db")));
        var xksKeyId = CloudKeyNames.XksKeyId(key);
        Hsm().RunPkcs11Tool("--token-label", Token, "--login", "--pin", _pin, "--keygen", "--key-type", "AES:32", "--label", xksKeyId + "/v1", "--sensitive");

        await using var op = await StartOperatorAsync(environment: Hsm().Environment);
        var waiting = await WaitForCloudKeyReasonAsync("payments-db", "HsmUnavailable");
        Assert.Contains($"PKCS#11 library '{MissingLibrary}' does not exist", waiting, StringComparison.Ordinal);
        Assert.Null(await TryAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("payments-db-key-material", Ns)));

        (await Cluster.KubectlAsync($"patch vault hsm -n {Ns} --type merge --patch-file=/dev/stdin", System.Text.Json.JsonSerializer.Serialize(new { spec = new { keyBackend = new { pkcs11 = new { library = Hsm().LibraryPath } } } })))
            .EnsureSuccess("kubectl patch vault");
        var material = await WaitForAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("payments-db-key-material", Ns), "the key-material Secret");
        Assert.Equal(
            $$"""{"keyId":"{{xksKeyId}}","backend":"pkcs11","versions":[{"version":1,"createdAt":""}]}""",
            BlankTimes(material.Data["versions.json"]));
        Assert.Equal([xksKeyId + "/v1"], Labels());

        // Rotation makes version 2 in the token, then records it.
        (await Cluster.KubectlAsync($"annotate cloudkey payments-db -n {Ns} xks.dev/rotate-key=now")).EnsureSuccess("kubectl annotate");
        await Eventually.HoldsAsync(
            async () => (await Client.CoreV1.ReadNamespacedSecretAsync("payments-db-key-material", Ns)).Data["versions.json"] is var json
                && JsonNode.Parse(json)!["versions"]!.AsArray().Count == 2,
            Timeout, "version 2 recorded");
        Assert.Equal([xksKeyId + "/v1", xksKeyId + "/v2"], Labels());
        var events = (await Cluster.KubectlAsync($"get events -n {Ns} --field-selector involvedObject.name=payments-db -o jsonpath={{.items[*].message}}")).StandardOutput;
        Assert.Contains($"Added key version 2 of {xksKeyId} inside Vault hsm's HSM (object {xksKeyId}/v2, AES-256, sensitive, not extractable) (requested by annotation)", events, StringComparison.Ordinal);
        Assert.Contains($"Generated key {xksKeyId} version 1 inside Vault hsm's HSM (object {xksKeyId}/v1, AES-256, sensitive, not extractable)", events, StringComparison.Ordinal);
        Assert.DoesNotContain(_pin, op.Output, StringComparison.Ordinal);
    }

    private const string MissingLibrary = "/usr/lib64/pkcs11/libsofthsm2.so";

    private List<string> Labels() =>
        [.. Hsm().RunPkcs11Tool("--token-label", Token, "--login", "--pin", _pin, "--list-objects", "--type", "secrkey")
            .Split('\n').Where(l => l.TrimStart().StartsWith("label:", StringComparison.Ordinal)).Select(l => l.Split(':', 2)[1].Trim()).Order(StringComparer.Ordinal)];

    private async Task<string> WaitForCloudKeyReasonAsync(string name, string reason)
    {
        string? message = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                var node = JsonNode.Parse(KubernetesJson.Serialize(await Client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, "cloudkeys", name)))!;
                var ready = node["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.GetValue<string>() == "Ready");
                message = ready?["message"]?.GetValue<string>();
                return ready?["reason"]?.GetValue<string>() == reason;
            },
            Timeout, $"CloudKey {name} Ready reason {reason}");
        return message!;
    }

    private static string BlankTimes(byte[] json) =>
        System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(json), "\"createdAt\":\"[^\"]+\"", "\"createdAt\":\"\"");

    private static (string Status, string Reason) ReadyOf(V1Alpha1Vault vault) =>
        Conditions.Get(vault.Status?.Conditions, ConditionTypes.Ready) is { } ready ? (ready.Status, ready.Reason) : ("", "");

    private static V1Secret PinSecret(string pin) => new()
    {
        Metadata = new V1ObjectMeta { Name = "hsm-pin" },
        StringData = new Dictionary<string, string> { ["pin"] = pin + "\n" },
    };

    private static string Vault(string name, string library) => $$$"""
        apiVersion: xks.dev/v1alpha1
        kind: Vault
        metadata: {name: {{{name}}}}
        spec:
          hostname: {{{name}}}.example.com
          tls: {secretName: {{{name}}}-tls}
          exposure: {type: LoadBalancer}
          keyBackend:
            type: Pkcs11
            pkcs11: {library: {{{library}}}, tokenLabel: {{{Token}}}, pinSecretRef: {name: hsm-pin}}
        """;
}
