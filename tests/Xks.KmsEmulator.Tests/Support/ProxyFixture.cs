namespace Xks.KmsEmulator.Tests.Support;

/// <summary>One TLS proxy process shared by the tests of a class (tests that change the proxy start their own).</summary>
public sealed class ProxyFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "xks-kms-emu-" + Guid.NewGuid().ToString("N"));

    public TestAuthority Authority { get; private set; } = null!;

    public ProxyProcess Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Authority = TestAuthority.Create(Directory, ProxyConfig.Host);
        Proxy = await ProxyProcess.StartAsync(Directory, new ProxyConfig(Authority));
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
