using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests;

/// <summary>Each test runs its own proxy process and changes it under a connected key store.</summary>
public sealed class ProxyChangeTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xks-kms-emu-" + Guid.NewGuid().ToString("N"));
    private TestAuthority _authority = null!;
    private ProxyProcess _proxy = null!;

    public async Task InitializeAsync()
    {
        _authority = TestAuthority.Create(_directory, ProxyConfig.Host);
        _proxy = await ProxyProcess.StartAsync(_directory, new ProxyConfig(_authority));
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ConnectCustomKeyStore_ProxyDown_FailsWithNotReachable()
    {
        await using var emulator = await EmulatorHarness.StartAsync(_proxy.Port, _authority.CaFile);
        var id = (await emulator.CreateStoreAsync()).CustomKeyStoreId;
        await _proxy.StopAsync();

        await emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var failed = await emulator.WaitForConnectionAsync(id);
        Assert.Equal(ConnectionStateType.FAILED, failed.ConnectionState);
        Assert.Equal(ConnectionErrorCodeType.XKS_PROXY_NOT_REACHABLE, failed.ConnectionErrorCode);

        // Like AWS: a FAILED store must be disconnected before it is connected again.
        await Assert.ThrowsAsync<CustomKeyStoreInvalidStateException>(() =>
            emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id }));
        await emulator.Kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var disconnected = await emulator.WaitForConnectionAsync(id);
        Assert.Equal(ConnectionStateType.DISCONNECTED, disconnected.ConnectionState);
        Assert.Null(disconnected.ConnectionErrorCode);
    }

    [Fact]
    public async Task ConnectCustomKeyStore_CredentialRemovedFromProxy_FailsWithInvalidCredentials()
    {
        await using var emulator = await EmulatorHarness.StartAsync(_proxy.Port, _authority.CaFile);
        var id = (await emulator.CreateStoreAsync()).CustomKeyStoreId;
        var config = new ProxyConfig(_authority);
        config.Credentials.Clear();
        config.Credentials.Add((ProxyConfig.OtherAccessKeyId, ProxyConfig.Secret));
        await _proxy.ReconfigureAsync(config);

        await emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var failed = await emulator.WaitForConnectionAsync(id);
        Assert.Equal(ConnectionStateType.FAILED, failed.ConnectionState);
        Assert.Equal(ConnectionErrorCodeType.INVALID_CREDENTIALS, failed.ConnectionErrorCode);
    }

    [Fact]
    public async Task Decrypt_KeyDisabledInProxy_ThrowsKmsInvalidStateUntilEnabledAgain()
    {
        await using var emulator = await EmulatorHarness.StartAsync(_proxy.Port, _authority.CaFile);
        var key = await emulator.CreateExternalKeyAsync(await emulator.CreateConnectedStoreAsync());
        var dataKey = await emulator.Kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, NumberOfBytes = 32 });
        var blob = dataKey.CiphertextBlob.ToArray();

        var config = new ProxyConfig(_authority);
        config.Keys["key-a"] = ("[ENCRYPT, DECRYPT]", false);
        await _proxy.ReconfigureAsync(config);
        var error = await Assert.ThrowsAsync<KMSInvalidStateException>(() => emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob) }));
        Assert.Contains("InvalidStateException", error.Message, StringComparison.Ordinal);
        Assert.Equal(KeyState.Enabled, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata.KeyState);

        await _proxy.ReconfigureAsync(new ProxyConfig(_authority));
        var decrypted = await emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob) });
        Assert.Equal(dataKey.Plaintext.ToArray(), decrypted.Plaintext.ToArray());
    }
}
