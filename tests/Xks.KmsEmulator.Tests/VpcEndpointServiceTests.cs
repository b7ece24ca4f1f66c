using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Tests.Support;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Tests;

/// <summary>
/// External key stores with connectivity VPC_ENDPOINT_SERVICE: AWS's rules on the account's endpoint services, and the
/// proxy reached through the service's target (no host override: only the endpoint service knows where the proxy is).
/// </summary>
public sealed class VpcEndpointServiceTests(ProxyFixture proxy) : IClassFixture<ProxyFixture>
{
    private const string ServiceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
    private const string OtherServiceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210";

    [Fact]
    public async Task ConnectCustomKeyStore_RegisteredService_DialsItsTargetAndServesKeys()
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Service());

        var id = (await CreateVpcStoreAsync(emulator, ServiceName)).CustomKeyStoreId;
        await emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var connected = await emulator.WaitForConnectionAsync(id);

        Assert.Equal(ConnectionStateType.CONNECTED, connected.ConnectionState);
        Assert.Equal(XksProxyConnectivityType.VPC_ENDPOINT_SERVICE, connected.XksProxyConfiguration.Connectivity);
        Assert.Equal(ServiceName, connected.XksProxyConfiguration.VpcEndpointServiceName);
        var key = await emulator.CreateExternalKeyAsync(id);
        var encrypted = await emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new MemoryStream([1, 2, 3]) });
        var decrypted = await emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob });
        Assert.Equal([1, 2, 3], decrypted.Plaintext.ToArray());
    }

    [Fact]
    public async Task CreateCustomKeyStore_NoEndpointServiceForTheHost_CannotReachTheProxy()
    {
        // The negative control of the test above: the proxy's host name resolves nowhere but through the endpoint service.
        await using var emulator = await StartAsync(services => services[ServiceName] = Misconfigure(Service(), "private DNS name of another host"));

        await Assert.ThrowsAsync<XksProxyUriUnreachableException>(() => emulator.CreateStoreAsync());
    }

    [Fact]
    public async Task CreateCustomKeyStore_UnknownService_ThrowsVpcEndpointServiceNotFound()
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Service());

        var error = await Assert.ThrowsAsync<XksProxyVpcEndpointServiceNotFoundException>(() => CreateVpcStoreAsync(emulator, OtherServiceName));

        Assert.Contains(OtherServiceName, error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Misconfigurations => new()
    {
        "private DNS name of another host",
        "no private DNS name",
        "private DNS name not verified",
        "KMS's principal not allowed",
        "acceptance required",
    };

    [Theory]
    [MemberData(nameof(Misconfigurations))]
    public async Task CreateCustomKeyStore_MisconfiguredService_ThrowsVpcEndpointServiceInvalidConfiguration(string misconfiguration)
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Misconfigure(Service(), misconfiguration));

        await Assert.ThrowsAsync<XksProxyVpcEndpointServiceInvalidConfigurationException>(() => CreateVpcStoreAsync(emulator, ServiceName));
        Assert.Empty((await emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest())).CustomKeyStores);
    }

    [Fact]
    public async Task CreateCustomKeyStore_ServiceOfAnotherStore_ThrowsVpcEndpointServiceInUse()
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Service());
        var first = (await CreateVpcStoreAsync(emulator, ServiceName)).CustomKeyStoreId;

        var error = await Assert.ThrowsAsync<XksProxyVpcEndpointServiceInUseException>(() => CreateVpcStoreAsync(emulator, ServiceName, name: "team-b", uriPath: "/team-b/kms/xks/v1"));

        Assert.Contains(first, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateCustomKeyStore_ToAnUnknownService_ThrowsVpcEndpointServiceNotFoundAndKeepsTheStore()
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Service());
        var id = (await CreateVpcStoreAsync(emulator, ServiceName)).CustomKeyStoreId;

        await Assert.ThrowsAsync<XksProxyVpcEndpointServiceNotFoundException>(() => emulator.Kms.UpdateCustomKeyStoreAsync(
            new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, XksProxyVpcEndpointServiceName = OtherServiceName }));

        var store = (await emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id })).CustomKeyStores.Single();
        Assert.Equal(ServiceName, store.XksProxyConfiguration.VpcEndpointServiceName);
    }

    [Fact]
    public async Task ConnectCustomKeyStore_ServiceGoneSinceCreate_FailsWithVpcEndpointServiceNotFound()
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Service());
        var id = (await CreateVpcStoreAsync(emulator, ServiceName)).CustomKeyStoreId;
        emulator.Options.VpcEndpointServices.Remove(ServiceName);

        await emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var failed = await emulator.WaitForConnectionAsync(id);

        Assert.Equal((ConnectionStateType.FAILED, ConnectionErrorCodeType.XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND), (failed.ConnectionState, failed.ConnectionErrorCode));
    }

    [Fact]
    public async Task ConnectCustomKeyStore_ServiceMisconfiguredSinceCreate_FailsWithVpcEndpointServiceInvalidConfiguration()
    {
        await using var emulator = await StartAsync(services => services[ServiceName] = Service());
        var id = (await CreateVpcStoreAsync(emulator, ServiceName)).CustomKeyStoreId;
        emulator.Options.VpcEndpointServices[ServiceName] = Misconfigure(Service(), "private DNS name not verified");

        await emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var failed = await emulator.WaitForConnectionAsync(id);

        Assert.Equal((ConnectionStateType.FAILED, ConnectionErrorCodeType.XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION), (failed.ConnectionState, failed.ConnectionErrorCode));
    }

    /// <summary>An emulator with no host override for the proxy: it is reachable only as an endpoint service's target.</summary>
    private Task<EmulatorHarness> StartAsync(Action<IDictionary<string, VpcEndpointService>> services) =>
        EmulatorHarness.StartAsync(proxyPort: null, proxy.Authority.CaFile, options => services(options.VpcEndpointServices));

    private VpcEndpointService Service() => VpcEndpointService.For(ProxyConfig.Host, EmulatorHarness.Region, $"127.0.0.1:{proxy.Proxy.Port}");

    private static VpcEndpointService Misconfigure(VpcEndpointService service, string misconfiguration)
    {
        switch (misconfiguration)
        {
            case "private DNS name of another host":
                service.PrivateDnsName = "other.emulator.test";
                break;
            case "no private DNS name":
                service.PrivateDnsName = null;
                break;
            case "private DNS name not verified":
                service.PrivateDnsVerified = false;
                break;
            case "KMS's principal not allowed":
                service.AllowedPrincipals.Clear();
                service.AllowedPrincipals.Add("cks.kms.eu-west-1.amazonaws.com");
                break;
            case "acceptance required":
                service.AcceptanceRequired = true;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(misconfiguration), misconfiguration, "no such misconfiguration");
        }

        return service;
    }

    private static Task<CreateCustomKeyStoreResponse> CreateVpcStoreAsync(EmulatorHarness emulator, string serviceName, string name = "team-a", string uriPath = ProxyConfig.UriPath) =>
        emulator.Kms.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = name,
            CustomKeyStoreType = CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyConnectivity = XksProxyConnectivityType.VPC_ENDPOINT_SERVICE,
            XksProxyVpcEndpointServiceName = serviceName,
            XksProxyUriEndpoint = "https://" + ProxyConfig.Host,
            XksProxyUriPath = uriPath,
            XksProxyAuthenticationCredential = new XksProxyAuthenticationCredentialType { AccessKeyId = ProxyConfig.AccessKeyId, RawSecretAccessKey = ProxyConfig.Secret },
        });
}
