using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>The cross-field rules a 1.20 API server cannot check (no CEL), reported as Ready=False InvalidSpec.</summary>
public sealed class SpecValidationTests
{
    private static V1Alpha1KeySet KeySet(Action<V1Alpha1KeySetSpec>? configure = null)
    {
        var keySet = new V1Alpha1KeySet
        {
            Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1KeySetSpec { VaultRef = new() { Name = "xks" }, CspAccountRef = new() { Name = "prod" } },
        };
        configure?.Invoke(keySet.Spec);
        return keySet;
    }

    private static V1Alpha1CloudKey CloudKey(Action<V1Alpha1CloudKeySpec> configure)
    {
        var key = new V1Alpha1CloudKey
        {
            Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1CloudKeySpec { KeySetRef = new() { Name = "payments" } },
        };
        configure(key.Spec);
        return key;
    }

    [Fact]
    public void KeySet_Defaults_AreValid() => Assert.Empty(KeySetController.Validate(KeySet()));

    [Fact]
    public void KeySet_VpcEndpointServiceWithoutItsName_IsInvalid() =>
        Assert.Contains("vpcEndpointServiceName is required", Assert.Single(KeySetController.Validate(KeySet(s => s.ExternalKeyStore.Connectivity = V1Alpha1Connectivity.VpcEndpointService))), StringComparison.Ordinal);

    [Fact]
    public void KeySet_VpcEndpointServiceNameOfTheWrongShape_IsInvalid() =>
        Assert.Contains("is not a VPC endpoint service name", Assert.Single(KeySetController.Validate(KeySet(s =>
        {
            s.ExternalKeyStore.Connectivity = V1Alpha1Connectivity.VpcEndpointService;
            s.ExternalKeyStore.VpcEndpointServiceName = "com.amazonaws.vpce.eu-west-1.vpce-svc-1";
        }))), StringComparison.Ordinal);

    [Fact]
    public void KeySet_VpcEndpointServiceWellFormed_IsValid() =>
        Assert.Empty(KeySetController.Validate(KeySet(s =>
        {
            s.ExternalKeyStore.Connectivity = V1Alpha1Connectivity.VpcEndpointService;
            s.ExternalKeyStore.VpcEndpointServiceName = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0";
        })));

    [Fact]
    public void KeySet_VpcEndpointServiceNameOnAPublicEndpoint_IsInvalid() =>
        Assert.Contains("only allowed", Assert.Single(KeySetController.Validate(KeySet(s => s.ExternalKeyStore.VpcEndpointServiceName = "com.amazonaws.vpce.eu-west-1.vpce-svc-1"))), StringComparison.Ordinal);

    [Fact]
    public void KeySet_UriPathOverKmsLimit_IsInvalid()
    {
        var keySet = KeySet();
        keySet.Metadata.NamespaceProperty = new string('n', 63);
        keySet.Metadata.Name = new string('k', 63);
        Assert.Contains("at most 128", Assert.Single(KeySetController.Validate(keySet)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s")]
    [InlineData("soon")]
    public void KeySet_RotationShorterThanAMinuteOrMalformed_IsInvalid(string every) =>
        Assert.Contains("at least 1m", Assert.Single(KeySetController.Validate(KeySet(s => s.CredentialRotation = new() { Every = every }))), StringComparison.Ordinal);

    [Theory]
    [InlineData("30s")]
    [InlineData("soon")]
    public void KeySet_DefaultRotationShorterThanAMinuteOrMalformed_IsInvalid(string every) =>
        Assert.Equal(
            $"spec.defaults.rotation.every '{every}' must be a duration of at least 1m",
            Assert.Single(KeySetController.Validate(KeySet(s => s.Defaults = new() { Rotation = new() { Every = every } }))));

    [Fact]
    public void KeySet_EmptyUriPathPrefix_IsValidOnItsOwn() =>
        Assert.Empty(KeySetController.Validate(KeySet(s => s.UriPathPrefix = "")));

    [Fact]
    public void CloudKey_TagWithTheOperatorsPrefix_IsInvalid() =>
        Assert.Contains(
            "spec.tags key 'xks.dev/cloudkey-uid' must not start with xks.dev/",
            Assert.Single(CloudKeyController.Validate(CloudKey(s => s.Tags = new Dictionary<string, string> { ["xks.dev/cloudkey-uid"] = "forged" }))),
            StringComparison.Ordinal);

    [Fact]
    public void CloudKey_EmptyAlias_IsValid() =>
        Assert.Empty(CloudKeyController.Validate(CloudKey(s => s.Alias = "")));

    [Fact]
    public void CloudKey_AliasInTheAwsNamespace_IsInvalid() =>
        Assert.Contains("aws/", Assert.Single(CloudKeyController.Validate(CloudKey(s => s.Alias = "aws/s3"))), StringComparison.Ordinal);

    [Fact]
    public void CloudKey_KeyPolicyViaServiceNotAnEndpoint_IsInvalid() =>
        Assert.Contains("spec.keyPolicy.viaServices 'ec2'", Assert.Single(CloudKeyController.Validate(CloudKey(s => s.KeyPolicy = new() { ViaServices = ["ec2"] }))), StringComparison.Ordinal);

    [Fact]
    public void CloudKey_KeyPolicyWithServicesAndContext_IsValid() =>
        Assert.Empty(CloudKeyController.Validate(CloudKey(s => s.KeyPolicy = new()
        {
            ViaServices = ["ec2.eu-west-1.amazonaws.com"],
            EncryptionContext = new Dictionary<string, string> { ["tenant"] = "payments" },
        })));

    [Fact]
    public void CloudKey_RotationEveryHour_IsValid() =>
        Assert.Empty(CloudKeyController.Validate(CloudKey(s => s.Rotation = new() { Every = "1h" })));
}
