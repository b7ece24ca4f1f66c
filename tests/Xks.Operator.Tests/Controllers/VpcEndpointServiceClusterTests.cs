using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Xks;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// KeySets with connectivity VpcEndpointService against the emulator's endpoint services: the seed KeySet moved behind
/// a correctly configured service (connected, a key works end to end), a second KeySet naming the same service, and a
/// service whose private DNS name is not the Vault's hostname.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class VpcEndpointServiceClusterTests() : OperatorClusterTest("vpce")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private const string KeySet = "keyset/" + SeedEnvironment.KeySetName;
    private const string Service = "com.amazonaws.vpce." + SeedEnvironment.Region + ".vpce-svc-0123456789abcdef0";
    private const string MisnamedService = "com.amazonaws.vpce." + SeedEnvironment.Region + ".vpce-svc-0fedcba9876543210";

    [Fact]
    public async Task KeySet_RegisteredEndpointService_ConnectsThroughItAndASecondKeySetIsRefused()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        seed.KmsOptions.VpcEndpointServices[Service] = VpcEndpointService.For(SeedEnvironment.Hostname, SeedEnvironment.Region, $"127.0.0.1:{seed.ProxyPort}");
        var storeId = (await seed.StatusFieldAsync(KeySet, "customKeyStoreId"))!;

        await seed.PatchSpecAsync(KeySet, new { externalKeyStore = new { connectivity = "VpcEndpointService", vpcEndpointServiceName = Service } });

        await Eventually.HoldsAsync(async () => await StoreAsync(seed, storeId) is { } store
            && store.XksProxyConfiguration.Connectivity == XksProxyConnectivityType.VPC_ENDPOINT_SERVICE
            && store.ConnectionState == ConnectionStateType.CONNECTED, Within, "the store CONNECTED through the endpoint service");
        Assert.Equal(Service, (await StoreAsync(seed, storeId))!.XksProxyConfiguration.VpcEndpointServiceName);
        await seed.WaitReadyAsync();
        await seed.WarmUpAsync();
        var context = new Dictionary<string, string> { ["purpose"] = "vpc" };
        Assert.Equal(new byte[] { 4, 5, 6 }, await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, new byte[] { 4, 5, 6 }, context)));

        // One endpoint service serves one key store: a second KeySet naming it is refused by KMS, with advice.
        await ApplyKeySetAsync(seed, "ledger", Service);
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("keyset/ledger") == "XksProxyVpcEndpointServiceInUse", Within, "keyset/ledger refused: service in use");
        Assert.Contains("already serves another custom key store", await seed.ReadyMessageAsync("keyset/ledger"), StringComparison.Ordinal);
        Assert.Equal(ConnectionStateType.CONNECTED, (await StoreAsync(seed, storeId))!.ConnectionState);
    }

    [Fact]
    public async Task KeySet_EndpointServiceWithAnotherPrivateDnsName_ReportsInvalidConfiguration()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        seed.KmsOptions.VpcEndpointServices[MisnamedService] = VpcEndpointService.For("other.example.com", SeedEnvironment.Region, $"127.0.0.1:{seed.ProxyPort}");
        var storeId = (await seed.StatusFieldAsync(KeySet, "customKeyStoreId"))!;

        await seed.PatchSpecAsync(KeySet, new { externalKeyStore = new { connectivity = "VpcEndpointService", vpcEndpointServiceName = MisnamedService } });

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(KeySet) == "XksProxyVpcEndpointServiceInvalidConfiguration", Within, "Ready=False XksProxyVpcEndpointServiceInvalidConfiguration");
        Assert.Contains($"its private DNS name must be {SeedEnvironment.Hostname}", await seed.ReadyMessageAsync(KeySet), StringComparison.Ordinal);
        Assert.Equal(XksProxyConnectivityType.PUBLIC_ENDPOINT, (await StoreAsync(seed, storeId))!.XksProxyConfiguration.Connectivity);
    }

    [Fact]
    public async Task KeySet_EndpointServiceOfAnotherRegion_RefusedBeforeAnyKmsCall()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var updates = seed.Kms.CallCount("UpdateCustomKeyStore");

        await seed.PatchSpecAsync(KeySet, new { externalKeyStore = new { connectivity = "VpcEndpointService", vpcEndpointServiceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0" } });

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(KeySet) == "VpcEndpointServiceInvalid", Within, "Ready=False VpcEndpointServiceInvalid");
        Assert.Contains($"but the key store is in {SeedEnvironment.Region}", await seed.ReadyMessageAsync(KeySet), StringComparison.Ordinal);
        Assert.Equal(updates, seed.Kms.CallCount("UpdateCustomKeyStore"));
    }

    private static async Task<CustomKeyStoresListEntry?> StoreAsync(SeedEnvironment seed, string storeId) =>
        (await seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = storeId })).CustomKeyStores.FirstOrDefault();

    private static Task ApplyKeySetAsync(SeedEnvironment seed, string name, string service) => seed.KubectlAsync("apply -f -", $$"""
        {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"{{name}}"},
         "spec":{"vaultRef":{"name":"{{SeedEnvironment.VaultName}}"},"cspAccountRef":{"name":"{{SeedEnvironment.CspAccountName}}"},"uriPathPrefix":"/{{name}}",
                 "externalKeyStore":{"connectivity":"VpcEndpointService","vpcEndpointServiceName":"{{service}}"} } }
        """);
}
