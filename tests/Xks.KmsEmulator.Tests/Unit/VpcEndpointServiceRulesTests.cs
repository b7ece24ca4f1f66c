using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Tests.Unit;

/// <summary>AWS's rules on an endpoint service for a key store, and where the emulator dials for a host.</summary>
public sealed class VpcEndpointServiceRulesTests
{
    private const string Name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";

    [Theory]
    [InlineData("as made by For", null)]
    [InlineData("private DNS name in other case with a trailing dot", null)]
    [InlineData("private DNS name of another host", "must be the host of the XksProxyUriEndpoint")]
    [InlineData("not verified", "is not verified")]
    [InlineData("principal of another region", "does not allow the principal cks.kms.us-east-1.amazonaws.com")]
    [InlineData("acceptance required", "requires acceptance")]
    public void ConfigurationProblem_Service_IsNamed(string @case, string? problem)
    {
        var service = VpcEndpointService.For("xks.example.com", "us-east-1", "127.0.0.1:1");
        switch (@case)
        {
            case "private DNS name in other case with a trailing dot":
                service.PrivateDnsName = "XKS.example.com.";
                break;
            case "private DNS name of another host":
                service.PrivateDnsName = "other.example.com";
                break;
            case "not verified":
                service.PrivateDnsVerified = false;
                break;
            case "principal of another region":
                service.AllowedPrincipals[0] = VpcEndpointService.KmsPrincipal("eu-west-1");
                break;
            case "acceptance required":
                service.AcceptanceRequired = true;
                break;
        }

        var found = service.ConfigurationProblem(Name, "https://xks.example.com", "us-east-1");

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("xks.example.com", "10.0.0.1:443")]
    [InlineData("XKS.EXAMPLE.COM", "10.0.0.1:443")]
    [InlineData("public.example.com", "127.0.0.1:8443")]
    [InlineData("elsewhere.example.com", null)]
    public void DialTarget_Host_PrefersTheEndpointServiceThenTheOverride(string host, string? target)
    {
        var services = new Dictionary<string, VpcEndpointService> { [Name] = VpcEndpointService.For("xks.example.com", "us-east-1", "10.0.0.1:443") };
        var overrides = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["xks.example.com"] = "127.0.0.1:9", ["public.example.com"] = "127.0.0.1:8443" };

        Assert.Equal(target, XksClient.DialTarget(services, overrides, host));
    }
}
