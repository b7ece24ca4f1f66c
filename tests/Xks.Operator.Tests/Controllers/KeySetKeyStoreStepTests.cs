using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>When the KeySet's store must be pointed elsewhere: endpoint, path, connectivity, or its VPC endpoint service.</summary>
public sealed class KeySetKeyStoreStepTests
{
    private const string Service = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0";
    private const string OtherService = "com.amazonaws.vpce.eu-west-1.vpce-svc-0fedcba9876543210";

    [Theory]
    [InlineData("PUBLIC_ENDPOINT", null, V1Alpha1Connectivity.PublicEndpoint, null, false)]
    [InlineData("PUBLIC_ENDPOINT", null, V1Alpha1Connectivity.VpcEndpointService, Service, true)]
    [InlineData("VPC_ENDPOINT_SERVICE", Service, V1Alpha1Connectivity.VpcEndpointService, Service, false)]
    [InlineData("VPC_ENDPOINT_SERVICE", Service, V1Alpha1Connectivity.VpcEndpointService, OtherService, true)]
    [InlineData("VPC_ENDPOINT_SERVICE", Service, V1Alpha1Connectivity.PublicEndpoint, null, true)]
    public void NeedsEndpointUpdate_ConnectivityAndService_UpdatesOnlyWhatDiffers(string storeConnectivity, string? storeService, V1Alpha1Connectivity connectivity, string? service, bool update)
    {
        var keySet = new V1Alpha1KeySet
        {
            Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1KeySetSpec { ExternalKeyStore = new V1Alpha1ExternalKeyStore { Connectivity = connectivity, VpcEndpointServiceName = service } },
        };
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { Name = "xks", NamespaceProperty = "team-a" }, Spec = new V1Alpha1VaultSpec { Hostname = "xks.example.com" } };
        var store = new CustomKeyStoresListEntry
        {
            XksProxyConfiguration = new XksProxyConfigurationType
            {
                UriEndpoint = "https://xks.example.com",
                UriPath = Resources.KeySetNames.UriPath(keySet),
                Connectivity = XksProxyConnectivityType.FindValue(storeConnectivity),
                VpcEndpointServiceName = storeService,
            },
        };

        Assert.Equal(update, KeySetKeyStoreStep.NeedsEndpointUpdate(store, keySet, vault));
    }
}
