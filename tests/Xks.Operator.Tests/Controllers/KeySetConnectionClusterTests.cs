using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The KeySet's key store in AWS over its life: reconnected when disconnected by hand, a FAILED connection reported
/// with KMS's ConnectionErrorCode and retried until the proxy is back, and deletion with both policies. The seed
/// environment (samples + emulator + local proxy) with a 2 s AWS resync.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class KeySetConnectionClusterTests() : OperatorClusterTest("keyset")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(45);
    private const string KeySet = "keyset/" + SeedEnvironment.KeySetName;

    [Fact]
    public async Task KeyStoreDisconnectedByHand_IsConnectedAgain()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var storeId = (await seed.StatusFieldAsync(KeySet, "customKeyStoreId"))!;

        await seed.Admin.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = storeId });

        await Eventually.HoldsAsync(async () => await StateAsync(seed, storeId) == ConnectionStateType.CONNECTED, Within, "the key store connected again");
        await seed.WaitReadyAsync(resources: KeySet);
        Assert.Equal("CONNECTED", await seed.StatusFieldAsync(KeySet, "connectionState"));
    }

    [Fact]
    public async Task ProxyDownWhileConnecting_ReadyReasonIsTheConnectionErrorCodeAndRecoversWhenTheProxyReturns()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var storeId = (await seed.StatusFieldAsync(KeySet, "customKeyStoreId"))!;

        await seed.Proxy!.DisposeAsync();
        await seed.Admin.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = storeId });

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(KeySet) == "XKS_PROXY_NOT_REACHABLE", Within, "Ready=False XKS_PROXY_NOT_REACHABLE");
        Assert.Equal("XKS_PROXY_NOT_REACHABLE", await seed.StatusFieldAsync(KeySet, "connectionErrorCode"));

        await seed.RunProxyAsync();
        await seed.WaitReadyAsync(TimeSpan.FromSeconds(60), KeySet);
        Assert.Equal(ConnectionStateType.CONNECTED, await StateAsync(seed, storeId));
        Assert.Null(await seed.StatusFieldAsync(KeySet, "connectionErrorCode"));
    }

    [Fact]
    public async Task KeySetsWithoutKeys_DeletedWithRetainAndDelete_StoreLeftDisconnectedOrDeleted()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        foreach (var (name, policy) in new[] { ("kept", "Retain"), ("gone", "Delete") })
        {
            await seed.KubectlAsync("apply -f -", $$"""
                {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"{{name}}"},
                 "spec":{"vaultRef":{"name":"{{SeedEnvironment.VaultName}}"},"cspAccountRef":{"name":"{{SeedEnvironment.CspAccountName}}"},"deletionPolicy":"{{policy}}"} }
                """);
        }

        await seed.WaitReadyAsync(TimeSpan.FromSeconds(90), "keyset/kept", "keyset/gone");
        var kept = (await seed.StatusFieldAsync("keyset/kept", "customKeyStoreId"))!;
        var gone = (await seed.StatusFieldAsync("keyset/gone", "customKeyStoreId"))!;

        await seed.KubectlAsync("delete keyset/kept keyset/gone --wait=true --timeout=60s");

        Assert.Equal(ConnectionStateType.DISCONNECTED, await StateAsync(seed, kept));
        await Assert.ThrowsAsync<CustomKeyStoreNotFoundException>(() => seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = gone }));
        await Eventually.HoldsAsync(async () => await seed.TrySecretAsync("gone-xks-credential") is null, Within, "the credential Secret garbage-collected with its KeySet");
    }

    private static async Task<ConnectionStateType> StateAsync(SeedEnvironment seed, string storeId) =>
        (await seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = storeId })).CustomKeyStores[0].ConnectionState;
}
