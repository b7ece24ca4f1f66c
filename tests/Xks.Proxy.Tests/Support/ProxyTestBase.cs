namespace Xks.Proxy.Tests.Support;

/// <summary>A test class with its own proxy on Kestrel (key "foo" unless <see cref="Configure"/> says otherwise) and a signing client.</summary>
public abstract class ProxyTestBase : IAsyncLifetime
{
    protected ProxyServer Server { get; private set; } = null!;

    protected XksClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ProxyServer.StartAsync(builder =>
        {
            Configure(builder);
            builder.Pkcs11 ??= Pkcs11Token;
        });
        Client = new XksClient(Server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    protected virtual void Configure(ProxyConfigBuilder builder) => builder.Key("foo");

    /// <summary>A SoftHSM2 token to run the class on the PKCS#11 backend (null: the software backend).</summary>
    protected virtual Pkcs11TestToken? Pkcs11Token => null;
}
