using System.Text.Json.Nodes;
using k8s;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// A user's serving certificate (spec.tls.secretName) checked before AWS KMS ever connects: the seed environment with
/// its TLS Secret replaced by a certificate for another name, then fixed.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class VaultTlsChecksClusterTests() : OperatorClusterTest("tls")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private const string Vault = "vault/" + SeedEnvironment.VaultName;
    private const string KeySet = "keyset/" + SeedEnvironment.KeySetName;

    [Fact]
    public async Task Vault_SuppliedCertificateForAnotherName_HostnameMismatchAndNoKeyStoreCallUntilTheSecretIsFixed()
    {
        await using var seed = await SeedEnvironment.CreateAsync(Cluster, Ns, () => StartOperatorAsync());
        await TlsSecret.CreateOrReplaceAsync(Client, Ns, SeedEnvironment.TlsSecretName, seed.Ca, "wrong.example.com");
        await seed.StartOperatorAsync();
        // The kubelet's part without the proxy: the pods Ready, so that the certificate is what keeps the Vault from Ready.
        await Eventually.HoldsAsync(async () => await TryAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync(SeedEnvironment.VaultName + "-proxy", Ns)) is not null, Within, "the proxy Deployment");
        await Kubelet.MakeDeploymentAvailableAsync(Ns, SeedEnvironment.VaultName + "-proxy", 2, Within);

        await Eventually.HoldsAsync(async () => await ConditionReasonAsync(seed, Vault, "CertificateReady") == "CertificateHostnameMismatch", Within, "CertificateReady=False CertificateHostnameMismatch");
        var vault = await seed.GetAsync(Vault);
        Assert.Equal("False", Condition(vault, "CertificateReady")?["status"]?.GetValue<string>());
        Assert.Equal("CertificateHostnameMismatch", Condition(vault, "Ready")?["reason"]?.GetValue<string>());
        var message = Condition(vault, "CertificateReady")!["message"]!.GetValue<string>();
        Assert.Contains(SeedEnvironment.Hostname, message, StringComparison.Ordinal);
        Assert.Contains("wrong.example.com", message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", message, StringComparison.Ordinal);
        Assert.Equal(["wrong.example.com"], vault["status"]!["certificate"]!["dnsNames"]!.AsArray().Select(n => n!.GetValue<string>()));

        // The KeySet waits for the certificate: KMS is never asked to create or connect a store it would refuse.
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(KeySet) == "VaultCertificateNotReady", Within, "the KeySet waiting on the Vault's certificate");
        Assert.Equal(0, seed.Kms.CallCount("CreateCustomKeyStore"));
        Assert.Equal(0, seed.Kms.CallCount("ConnectCustomKeyStore"));
        // The proxy still serves: a certificate problem does not take the Deployment down.
        Assert.Equal(2, (await Client.AppsV1.ReadNamespacedDeploymentAsync(SeedEnvironment.VaultName + "-proxy", Ns)).Spec.Replicas);

        // Fixed: the Secret's change wakes the Vault; the test CA's two-day certificate is valid but expiring soon.
        await TlsSecret.CreateOrReplaceAsync(Client, Ns, SeedEnvironment.TlsSecretName, seed.Ca, SeedEnvironment.Hostname);
        await Eventually.HoldsAsync(async () => await ConditionStatusAsync(seed, Vault, "CertificateReady") == "True", Within, "CertificateReady=True");
        Assert.Equal("CertificateExpiringSoon", await ConditionReasonAsync(seed, Vault, "CertificateReady"));
        await seed.RunProxyAsync();
        await seed.WaitReadyAsync();
        Assert.True(seed.Kms.CallCount("CreateCustomKeyStore") >= 1, "the store created once the certificate passed (retried until the proxy answered)");
        await seed.WarmUpAsync();
    }

    private static JsonNode? Condition(JsonNode resource, string type) =>
        resource["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.GetValue<string>() == type);

    private static async Task<string?> ConditionReasonAsync(SeedEnvironment seed, string resource, string type) =>
        Condition(await seed.GetAsync(resource), type)?["reason"]?.GetValue<string>();

    private static async Task<string?> ConditionStatusAsync(SeedEnvironment seed, string resource, string type) =>
        Condition(await seed.GetAsync(resource), type)?["status"]?.GetValue<string>();
}
