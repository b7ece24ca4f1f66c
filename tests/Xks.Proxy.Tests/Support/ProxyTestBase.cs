namespace Xks.Proxy.Tests.Support;

/// <summary>A test class with its own proxy on Kestrel (key "foo" unless <see cref="Configure"/> says otherwise) and a signing client.</summary>
public abstract class ProxyTestBase : IAsyncLifetime
{
    protected ProxyServer Server { get; private set; } = null!;

    protected XksClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ProxyServer.StartAsync(Configure);
        Client = new XksClient(Server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    protected virtual void Configure(ProxyConfigBuilder builder) => builder.Key("foo");
}
