using Xks.Pkcs11;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

public sealed class Pkcs11ModuleContextTests
{
    [Fact]
    public void LowLevel_UsedThenDropped_LeavesTheModuleInitialised()
    {
        // HsmWritesIv relies on it: the low-level view only dlopens the same module again and never finalizes it.
        var token = Pkcs11TestToken.Create("low-level");
        using var module = new Pkcs11ModuleContext(token.Library);
        var view = module.LowLevel;
        Assert.Same(view, module.LowLevel);

        view.Dispose();

        using var session = module.Lease.OpenUserSession(TokenSelector.ByLabel(token.Label), Pkcs11Pin.FromLiteral(token.Pin));
        Assert.Equal(12, session.GenerateRandom(12).Length);
    }
}
