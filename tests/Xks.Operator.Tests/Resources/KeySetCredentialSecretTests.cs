using System.Text;
using System.Text.Json;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public sealed class KeySetCredentialSecretTests
{
    private static V1Alpha1KeySet KeySet() => new()
    {
        Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a", Uid = "0b8e4c7e-6c1f-4d5e-9a55-1f2f0b6d7a10" },
        Spec = new V1Alpha1KeySetSpec { VaultRef = new() { Name = "xks" }, CspAccountRef = new() { Name = "prod" } },
    };

    [Fact]
    public void Build_ThenTryRead_RoundTripsEveryCredentialAndAnnotation()
    {
        var until = new DateTimeOffset(2026, 11, 28, 20, 0, 0, TimeSpan.Zero);
        var original = new KeySetCredentialSecret(XksCredential.Generate(), XksCredential.Generate(), XksCredential.Generate())
        {
            HandledRotationRequest = "r1",
            PreviousUntil = until,
        };

        var secret = original.Build(KeySet(), "/team-a/payments/kms/xks/v1");

        Assert.True(KeySetCredentialSecret.TryRead(secret, out var read, out var problem), problem);
        Assert.Equal(original, read);
        Assert.Equal(3, read!.Accepted().Count());
        Assert.Equal("payments-xks-credential", secret.Metadata.Name);
        Assert.Equal("xks", secret.Metadata.Labels[VaultLabels.VaultLabel]);
        Assert.Equal("payments", secret.Metadata.Labels[KeySetCredentialSecret.KeySetLabel]);
        var owner = Assert.Single(secret.Metadata.OwnerReferences);
        Assert.True(owner.Controller);
        Assert.Equal("KeySet", owner.Kind);
    }

    [Fact]
    public void Build_ConsoleFile_HasTheFieldsTheAwsConsoleImports()
    {
        var credential = XksCredential.Generate();
        var secret = new KeySetCredentialSecret(credential).Build(KeySet(), "/team-a/payments/kms/xks/v1");

        using var file = JsonDocument.Parse(Encoding.UTF8.GetString(secret.Data[KeySetCredentialSecret.ConsoleFileKey]));
        Assert.Equal("/team-a/payments/kms/xks/v1", file.RootElement.GetProperty("XksProxyUriPath").GetString());
        var auth = file.RootElement.GetProperty("XksProxyAuthenticationCredential");
        Assert.Equal(credential.AccessKeyId, auth.GetProperty("AccessKeyId").GetString());
        Assert.Equal(credential.SecretAccessKey, auth.GetProperty("RawSecretAccessKey").GetString());
    }

    [Fact]
    public void TryRead_InvalidSecret_NamesTheKeysButNeverTheValue()
    {
        var secret = new KeySetCredentialSecret(XksCredential.Generate()).Build(KeySet(), "/p/kms/xks/v1");
        secret.Data[KeySetCredentialSecret.SecretAccessKeyKey] = Encoding.UTF8.GetBytes("short-secret-value");

        Assert.False(KeySetCredentialSecret.TryRead(secret, out _, out var problem));
        Assert.Contains("secretAccessKey", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("short-secret-value", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_NoCredential_IsAProblem()
    {
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "payments-xks-credential" }, Data = new Dictionary<string, byte[]>() };
        Assert.False(KeySetCredentialSecret.TryRead(secret, out _, out var problem));
        Assert.Contains("accessKeyId", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void KeySetNames_Defaults_DeriveFromNamespaceAndName()
    {
        var keySet = KeySet();
        Assert.Equal("/team-a/payments", KeySetNames.UriPathPrefix(keySet));
        Assert.Equal("/team-a/payments/kms/xks/v1", KeySetNames.UriPath(keySet));
        Assert.Equal("team-a-payments", KeySetNames.KeyStoreName(keySet));
        keySet.Spec.UriPathPrefix = "/pay";
        keySet.Spec.ExternalKeyStore.Name = "payments-xks";
        Assert.Equal("/pay/kms/xks/v1", KeySetNames.UriPath(keySet));
        Assert.Equal("payments-xks", KeySetNames.KeyStoreName(keySet));
    }

    [Fact]
    public void ProxyKeyStoreName_DotsAndLength_BecomeAProxyName()
    {
        var keySet = KeySet();
        keySet.Metadata.Name = "Payments.EU." + new string('x', 80);
        var name = KeySetNames.ProxyKeyStoreName(keySet);
        Assert.Matches("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", name);
        Assert.True(name.Length <= 63);
    }
}
