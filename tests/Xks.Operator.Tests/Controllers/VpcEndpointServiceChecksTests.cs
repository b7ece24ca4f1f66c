using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>A KeySet's VPC endpoint service, checked before any AWS call, and the advice added to KMS's refusals.</summary>
public sealed class VpcEndpointServiceChecksTests
{
    private const string Service = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0";

    [Theory]
    [InlineData(Service, true)]
    [InlineData("com.amazonaws.vpce.us-gov-west-1.vpce-svc-0123456789abcdef0", true)]
    [InlineData("com.amazonaws.vpce.ap-southeast-2.vpce-svc-0abcdefabcdefabcd", true)]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("com.amazonaws.vpce.eu-west-1.vpce-svc-1", false)]
    [InlineData("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789ABCDEF0", false)]
    [InlineData("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef00", false)]
    [InlineData("com.amazonaws.vpce.eu-west-1.vpce-0123456789abcdef0", false)]
    [InlineData("com.amazonaws.eu-west-1.vpce-svc-0123456789abcdef0", false)]
    [InlineData("vpce-svc-0123456789abcdef0", false)]
    public void NameProblems_ServiceName_MustHaveAwsShape(string? name, bool valid)
    {
        var problems = VpcEndpointServiceChecks.NameProblems(name);

        Assert.Equal(valid, problems.Count == 0);
        if (!valid)
        {
            Assert.Contains("com.amazonaws.vpce.<region>.vpce-svc-<17 lowercase hex digits>", Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(Service, "eu-west-1", null)]
    [InlineData(Service, "us-east-1", "is in region eu-west-1, but the key store is in us-east-1")]
    [InlineData("not a service name", "us-east-1", null)]
    [InlineData(null, "us-east-1", null)]
    public void RegionProblem_ServiceRegion_MustBeTheKeyStores(string? name, string region, string? problem)
    {
        var found = VpcEndpointServiceChecks.RegionProblem(name, region);

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DnsRule_Vault_NamesItsHostnameAsThePrivateDnsName()
    {
        var rule = VpcEndpointServiceChecks.DnsRule(Service, Vault());

        Assert.Contains($"must have the verified private DNS name xks.example.com", rule, StringComparison.Ordinal);
        Assert.Contains("cks.kms.<region>.amazonaws.com", rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Reasons.XksProxyVpcEndpointServiceNotFound, "KMS finds no VPC endpoint service " + Service)]
    [InlineData(Reasons.XksProxyVpcEndpointServiceInvalidConfiguration, "its private DNS name must be xks.example.com and verified")]
    [InlineData(Reasons.XksProxyVpcEndpointServiceInUse, "already serves another custom key store in this account")]
    [InlineData("XksProxyUriUnreachable", null)]
    public void Hint_KmsReason_AdvisesOnlyForVpcEndpointServiceRefusals(string reason, string? hint)
    {
        var keySet = new V1Alpha1KeySet
        {
            Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1KeySetSpec { ExternalKeyStore = new V1Alpha1ExternalKeyStore { Connectivity = V1Alpha1Connectivity.VpcEndpointService, VpcEndpointServiceName = Service } },
        };

        var found = VpcEndpointServiceChecks.Hint(reason, keySet, Vault());

        if (hint is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(hint, found, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("XksProxyVpcEndpointServiceNotFoundException", Reasons.XksProxyVpcEndpointServiceNotFound)]
    [InlineData("XksProxyVpcEndpointServiceInvalidConfigurationException", Reasons.XksProxyVpcEndpointServiceInvalidConfiguration)]
    [InlineData("XksProxyVpcEndpointServiceInUseException", Reasons.XksProxyVpcEndpointServiceInUse)]
    public void ReasonForCode_KmsVpcExceptions_AreTheHintedReasons(string code, string reason) =>
        Assert.Equal(reason, Aws.AwsErrors.ReasonForCode(code));

    private static V1Alpha1Vault Vault() => new()
    {
        Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" },
        Spec = new V1Alpha1VaultSpec { Hostname = "xks.example.com" },
    };
}
