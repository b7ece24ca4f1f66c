using System.Text;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Tests.Support;
using Xks.Testing;

namespace Xks.KmsEmulator.Tests;

/// <summary>The emulator against the real XKS proxy (a child process over TLS), driven by the AWS SDK for .NET.</summary>
public sealed class ExternalKeyStoreTests(ProxyFixture proxy) : IClassFixture<ProxyFixture>
{
    [Fact]
    public async Task ConnectCustomKeyStore_ProxyHealthy_GoesConnectingThenConnected()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy, o => o.ConnectDelay = TimeSpan.FromMilliseconds(500));
        var id = (await emulator.CreateStoreAsync()).CustomKeyStoreId;
        Assert.StartsWith("cks-", id, StringComparison.Ordinal);
        var created = (await emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id })).CustomKeyStores.Single();
        Assert.Equal(ConnectionStateType.DISCONNECTED, created.ConnectionState);
        Assert.Equal(CustomKeyStoreType.EXTERNAL_KEY_STORE, created.CustomKeyStoreType);
        Assert.Equal(ProxyConfig.UriPath, created.XksProxyConfiguration.UriPath);
        Assert.Equal(ProxyConfig.AccessKeyId, created.XksProxyConfiguration.AccessKeyId);
        Assert.Equal(1, emulator.Server.CallCount("CreateCustomKeyStore"));

        await emulator.Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var connecting = (await emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = "team-a" })).CustomKeyStores.Single();
        Assert.Equal(ConnectionStateType.CONNECTING, connecting.ConnectionState);
        var connected = await emulator.WaitForConnectionAsync(id);
        Assert.Equal(ConnectionStateType.CONNECTED, connected.ConnectionState);
        Assert.Null(connected.ConnectionErrorCode);

        await emulator.Kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        Assert.Equal(ConnectionStateType.DISCONNECTED, (await emulator.WaitForConnectionAsync(id)).ConnectionState);
        await emulator.Kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = id });
        await Assert.ThrowsAsync<CustomKeyStoreNotFoundException>(() =>
            emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id }));
    }

    [Fact]
    public async Task CreateCustomKeyStore_WrongSecret_ThrowsIncorrectAuthenticationCredential()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var error = await Assert.ThrowsAsync<XksProxyIncorrectAuthenticationCredentialException>(() =>
            emulator.CreateStoreAsync(secret: "d3Jvbmcgc2VjcmV0IGZvciB0aGUgdGVzdCBrZXkgc3RvcmUh"));
        Assert.DoesNotContain("d3Jvbmcg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateCustomKeyStore_UnknownPath_ThrowsInvalidConfiguration()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        await Assert.ThrowsAsync<XksProxyInvalidConfigurationException>(() => emulator.CreateStoreAsync(uriPath: "/other/kms/xks/v1"));
    }

    [Fact]
    public async Task CreateCustomKeyStore_NothingListening_ThrowsUriUnreachable()
    {
        await using var emulator = await EmulatorHarness.StartAsync(TestPorts.GetFree(), proxy.Authority.CaFile);
        await Assert.ThrowsAsync<XksProxyUriUnreachableException>(() => emulator.CreateStoreAsync());
    }

    [Fact]
    public async Task CreateCustomKeyStore_UntrustedCertificate_ThrowsUriUnreachable()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy.Proxy.Port, caFile: null);
        var error = await Assert.ThrowsAsync<XksProxyUriUnreachableException>(() => emulator.CreateStoreAsync());
        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateCustomKeyStore_InvalidSettings_ThrowValidationAndInUseErrors()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.CreateStoreAsync(accessKeyId: "lowercase-not-base32-id"));
        await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.CreateStoreAsync(secret: "too-short"));
        await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.CreateStoreAsync(uriPath: "/team-a/kms/xks/v1/extra"));
        var withPort = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.Kms.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = "with-port",
            CustomKeyStoreType = CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyConnectivity = XksProxyConnectivityType.PUBLIC_ENDPOINT,
            XksProxyUriEndpoint = $"https://{ProxyConfig.Host}:{8443}",
            XksProxyUriPath = ProxyConfig.UriPath,
            XksProxyAuthenticationCredential = new XksProxyAuthenticationCredentialType { AccessKeyId = ProxyConfig.AccessKeyId, RawSecretAccessKey = ProxyConfig.Secret },
        }));
        Assert.Equal("ValidationException", withPort.ErrorCode);

        await emulator.CreateStoreAsync("first");
        await Assert.ThrowsAsync<CustomKeyStoreNameInUseException>(() => emulator.CreateStoreAsync("first"));
        await Assert.ThrowsAsync<XksProxyUriInUseException>(() => emulator.CreateStoreAsync("second"));
        Assert.Equal(0, emulator.Server.CallCount("ConnectCustomKeyStore"));
    }

    [Fact]
    public async Task CreateKey_KeyStoreNotConnected_ThrowsCustomKeyStoreInvalidState()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var id = (await emulator.CreateStoreAsync()).CustomKeyStoreId;
        await Assert.ThrowsAsync<CustomKeyStoreInvalidStateException>(() => emulator.CreateExternalKeyAsync(id));
    }

    [Fact]
    public async Task CreateKey_ExternalKeyChecks_RefuseUnusableKeys()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var id = await emulator.CreateConnectedStoreAsync();
        await Assert.ThrowsAsync<XksKeyNotFoundException>(() => emulator.CreateExternalKeyAsync(id, "no-such-key"));
        await Assert.ThrowsAsync<XksKeyInvalidConfigurationException>(() => emulator.CreateExternalKeyAsync(id, "encrypt-only"));
        await Assert.ThrowsAsync<XksKeyInvalidConfigurationException>(() => emulator.CreateExternalKeyAsync(id, "switched-off"));

        var key = await emulator.CreateExternalKeyAsync(id, "key-a");
        Assert.Equal(KeyState.Enabled, key.KeyState);
        Assert.Equal(OriginType.EXTERNAL_KEY_STORE, key.Origin);
        Assert.Equal(id, key.CustomKeyStoreId);
        Assert.Equal("key-a", key.XksKeyConfiguration.Id);
        Assert.Equal($"arn:aws:kms:us-east-1:111122223333:key/{key.KeyId}", key.Arn);
        Assert.True(Guid.TryParse(key.KeyId, out _));
        await Assert.ThrowsAsync<XksKeyAlreadyInUseException>(() => emulator.CreateExternalKeyAsync(id, "key-a"));
        Assert.Single((await emulator.Kms.ListKeysAsync(new ListKeysRequest())).Keys);
    }

    [Fact]
    public async Task EncryptDecrypt_ThroughProxy_RoundTripsWithEncryptionContext()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var key = await emulator.CreateExternalKeyAsync(await emulator.CreateConnectedStoreAsync());
        var context = new Dictionary<string, string> { ["bucket"] = "photos", ["object"] = "cat.png" };
        var plaintext = Encoding.UTF8.GetBytes("hold your own key");

        var encrypted = await emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new MemoryStream(plaintext), EncryptionContext = context });
        Assert.Equal(key.Arn, encrypted.KeyId);
        var blob = encrypted.CiphertextBlob.ToArray();
        Assert.DoesNotContain("hold your own key", Encoding.UTF8.GetString(blob), StringComparison.Ordinal);

        var decrypted = await emulator.Kms.DecryptAsync(new DecryptRequest
        {
            CiphertextBlob = new MemoryStream(blob),
            EncryptionContext = new Dictionary<string, string> { ["object"] = "cat.png", ["bucket"] = "photos" },
        });
        Assert.Equal(plaintext, decrypted.Plaintext.ToArray());
        Assert.Equal(key.Arn, decrypted.KeyId);

        await Assert.ThrowsAsync<InvalidCiphertextException>(() => emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob) }));
        var tampered = (byte[])blob.Clone();
        tampered[^1] ^= 1;
        await Assert.ThrowsAsync<KMSInvalidStateException>(() =>
            emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(tampered), EncryptionContext = context }));
        Assert.Equal(3, emulator.Server.CallCount("Decrypt"));
    }

    [Fact]
    public async Task GenerateDataKey_ThroughProxy_DecryptsToSameDataKey()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var storeId = await emulator.CreateConnectedStoreAsync();
        var key = await emulator.CreateExternalKeyAsync(storeId);
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/payments", TargetKeyId = key.KeyId });

        var dataKey = await emulator.Kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = "alias/payments", KeySpec = DataKeySpec.AES_256 });
        Assert.Equal(32, dataKey.Plaintext.Length);
        Assert.Equal(key.Arn, dataKey.KeyId);
        var decrypted = await emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = dataKey.CiphertextBlob, KeyId = key.Arn });
        Assert.Equal(dataKey.Plaintext.ToArray(), decrypted.Plaintext.ToArray());

        var other = await emulator.CreateExternalKeyAsync(storeId, "key-b");
        await Assert.ThrowsAsync<IncorrectKeyException>(() =>
            emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(dataKey.CiphertextBlob.ToArray()), KeyId = other.KeyId }));
    }

    [Fact]
    public async Task Encrypt_DisabledKeyOrDisconnectedStore_IsRefused()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var storeId = await emulator.CreateConnectedStoreAsync();
        var key = await emulator.CreateExternalKeyAsync(storeId);
        var request = () => emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new MemoryStream([1, 2, 3]) });

        await emulator.Kms.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId });
        await Assert.ThrowsAsync<DisabledException>(request);
        await emulator.Kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId });
        await request();

        await emulator.Kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = storeId });
        await Assert.ThrowsAsync<KMSInvalidStateException>(request);
        var described = (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata;
        Assert.Equal(KeyState.Unavailable, described.KeyState);
        await Assert.ThrowsAsync<CustomKeyStoreHasCMKsException>(() =>
            emulator.Kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = storeId }));
    }

    [Fact]
    public async Task UpdateCustomKeyStore_NewCredentialNotOnProxy_ThrowsIncorrectAuthenticationCredential()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy);
        var id = await emulator.CreateConnectedStoreAsync();
        await Assert.ThrowsAsync<XksProxyIncorrectAuthenticationCredentialException>(() => emulator.Kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest
        {
            CustomKeyStoreId = id,
            XksProxyAuthenticationCredential = new XksProxyAuthenticationCredentialType { AccessKeyId = ProxyConfig.OtherAccessKeyId, RawSecretAccessKey = ProxyConfig.Secret },
        }));
        await Assert.ThrowsAsync<CustomKeyStoreInvalidStateException>(() => emulator.Kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest
        {
            CustomKeyStoreId = id,
            XksProxyUriEndpoint = "https://other.emulator.test",
        }));
        await emulator.Kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, NewCustomKeyStoreName = "renamed" });
        var entry = (await emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = "renamed" })).CustomKeyStores.Single();
        Assert.Equal(ProxyConfig.AccessKeyId, entry.XksProxyConfiguration.AccessKeyId);
        Assert.Equal(ConnectionStateType.CONNECTED, entry.ConnectionState);
    }

    [Fact]
    public async Task ScheduleKeyDeletion_ExternalKeyWindowPassed_FreesItsXksKeyAndLetsTheStoreBeDeleted()
    {
        await using var emulator = await EmulatorHarness.StartAsync(proxy, o => o.PendingWindowUnit = TimeSpan.FromMilliseconds(400));
        var storeId = await emulator.CreateConnectedStoreAsync();
        var key = await emulator.CreateExternalKeyAsync(storeId, "key-b");
        var scheduled = await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });
        await Assert.ThrowsAsync<XksKeyAlreadyInUseException>(() => emulator.CreateExternalKeyAsync(storeId, "key-b"));

        var left = scheduled.DeletionDate!.Value - DateTime.UtcNow + TimeSpan.FromMilliseconds(100);
        await Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero);

        await Assert.ThrowsAsync<NotFoundException>(() => emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.Arn }));
        var again = await emulator.CreateExternalKeyAsync(storeId, "key-b");
        Assert.NotEqual(key.KeyId, again.KeyId);
        await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = again.KeyId, PendingWindowInDays = 7 });
        await emulator.Kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = storeId });
        Assert.Equal(ConnectionStateType.DISCONNECTED, (await emulator.WaitForConnectionAsync(storeId)).ConnectionState);
        await Assert.ThrowsAsync<CustomKeyStoreHasCMKsException>(() => emulator.Kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = storeId }));

        await Task.Delay(TimeSpan.FromSeconds(3));

        await emulator.Kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = storeId });
        await Assert.ThrowsAsync<CustomKeyStoreNotFoundException>(() =>
            emulator.Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = storeId }));
    }
}
