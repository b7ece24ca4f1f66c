using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using Amazon.SecurityToken;

namespace Xks.KmsEmulator.Tests.Support;

/// <summary>An emulator on an ephemeral port and AWS SDK for .NET clients pointed at it.</summary>
public sealed class EmulatorHarness : IAsyncDisposable
{
    public const string AccessKeyId = "AKIAEMULATORTESTUSER1";
    public const string Secret = "c2VjcmV0IG9mIHRoZSBlbXVsYXRvciB0ZXN0IHVzZXI";
    public const string Region = "us-east-1";
    public const string Account = "111122223333";

    private EmulatorHarness(KmsEmulator server, KmsEmulatorOptions options)
    {
        Server = server;
        Options = options;
        Kms = KmsClient(AccessKeyId, Secret);
    }

    public KmsEmulator Server { get; }

    public KmsEmulatorOptions Options { get; }

    public AmazonKeyManagementServiceClient Kms { get; }

    /// <summary>An emulator that reaches <paramref name="proxy"/> (if any) at <see cref="ProxyConfig.Host"/>.</summary>
    public static async Task<EmulatorHarness> StartAsync(ProxyFixture? proxy = null, Action<KmsEmulatorOptions>? configure = null) =>
        await StartAsync(proxy?.Proxy.Port, proxy?.Authority.CaFile, configure);

    public static async Task<EmulatorHarness> StartAsync(int? proxyPort, string? caFile, Action<KmsEmulatorOptions>? configure = null)
    {
        var options = new KmsEmulatorOptions
        {
            Region = Region,
            AccountId = Account,
            TrustedCaFile = caFile,
            XksTimeout = TimeSpan.FromSeconds(5),     // generous: two shared cores and a cold JIT; AWS uses 250 ms
            ConnectDelay = TimeSpan.FromMilliseconds(100),
        };
        options.Credentials[AccessKeyId] = Secret;
        if (proxyPort is { } port)
        {
            options.HostOverrides[ProxyConfig.Host] = $"127.0.0.1:{port}";
        }

        configure?.Invoke(options);
        return new EmulatorHarness(await KmsEmulator.StartAsync(options), options);
    }

    public AmazonKeyManagementServiceClient KmsClient(string accessKeyId, string secret, string? sessionToken = null, int maxErrorRetry = 0) =>
        new(Credentials(accessKeyId, secret, sessionToken), new AmazonKeyManagementServiceConfig
        {
            ServiceURL = Server.Url.ToString(),
            AuthenticationRegion = Region,
            MaxErrorRetry = maxErrorRetry,
        });

    /// <summary>A KMS client whose every call carries <c>X-Emulator-Via-Service</c>: an AWS service calling on the signer's behalf.</summary>
    public AmazonKeyManagementServiceClient KmsClientViaService(string service, string accessKeyId, string secret, string? sessionToken = null)
    {
        var client = KmsClient(accessKeyId, secret, sessionToken);
        client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs request)
            {
                request.Headers["X-Emulator-Via-Service"] = service;
            }
        };
        return client;
    }

    /// <summary>Temporary credentials of <paramref name="roleArn"/> (AssumeRole by the harness' user).</summary>
    public async Task<Amazon.SecurityToken.Model.Credentials> AssumeRoleAsync(string roleArn, string sessionName = "test-session")
    {
        using var sts = StsClient();
        return (await sts.AssumeRoleAsync(new Amazon.SecurityToken.Model.AssumeRoleRequest { RoleArn = roleArn, RoleSessionName = sessionName })).Credentials;
    }

    public AmazonSecurityTokenServiceClient StsClient(string accessKeyId = AccessKeyId, string secret = Secret, string? sessionToken = null) =>
        new(Credentials(accessKeyId, secret, sessionToken), new AmazonSecurityTokenServiceConfig
        {
            ServiceURL = Server.Url.ToString(),
            AuthenticationRegion = Region,
            MaxErrorRetry = 0,
        });

    public Task<CreateCustomKeyStoreResponse> CreateStoreAsync(string name = "team-a", string accessKeyId = ProxyConfig.AccessKeyId, string secret = ProxyConfig.Secret, string uriPath = ProxyConfig.UriPath) =>
        Kms.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = name,
            CustomKeyStoreType = CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyConnectivity = XksProxyConnectivityType.PUBLIC_ENDPOINT,
            XksProxyUriEndpoint = "https://" + ProxyConfig.Host,
            XksProxyUriPath = uriPath,
            XksProxyAuthenticationCredential = new XksProxyAuthenticationCredentialType { AccessKeyId = accessKeyId, RawSecretAccessKey = secret },
        });

    /// <summary>Polls DescribeCustomKeyStores until the store leaves CONNECTING.</summary>
    public async Task<CustomKeyStoresListEntry> WaitForConnectionAsync(string storeId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var entry = (await Kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = storeId })).CustomKeyStores.Single();
            if (entry.ConnectionState != ConnectionStateType.CONNECTING || DateTime.UtcNow > deadline)
            {
                return entry;
            }

            await Task.Delay(50);
        }
    }

    public async Task<string> CreateConnectedStoreAsync(string name = "team-a")
    {
        var id = (await CreateStoreAsync(name)).CustomKeyStoreId;
        await Kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id });
        var entry = await WaitForConnectionAsync(id);
        Assert.Equal(ConnectionStateType.CONNECTED, entry.ConnectionState);
        return id;
    }

    public async Task<KeyMetadata> CreateExternalKeyAsync(string storeId, string xksKeyId = "key-a") =>
        (await Kms.CreateKeyAsync(new CreateKeyRequest
        {
            Origin = OriginType.EXTERNAL_KEY_STORE,
            CustomKeyStoreId = storeId,
            XksKeyId = xksKeyId,
            Description = "test key",
        })).KeyMetadata;

    public async ValueTask DisposeAsync()
    {
        Kms.Dispose();
        await Server.DisposeAsync();
    }

    private static AWSCredentials Credentials(string accessKeyId, string secret, string? sessionToken) =>
        sessionToken is null ? new BasicAWSCredentials(accessKeyId, secret) : new SessionAWSCredentials(accessKeyId, secret, sessionToken);
}
