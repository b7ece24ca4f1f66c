using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>
/// Recovery of a failed token that shares its module (one client library for several HSMs) with tokens that still
/// serve: re-initialising the module would close their sessions, so it happens about once a minute, not every pass.
/// </summary>
public sealed class Pkcs11RecoveryTests
{
    [Theory]
    [InlineData(5, 12)]
    [InlineData(1, 60)]
    [InlineData(30, 2)]
    [InlineData(3600, 1)]
    public void SharedModuleReinitializeEvery_IsAboutAMinuteOfPasses(int intervalSeconds, int passes) =>
        Assert.Equal(passes, Pkcs11KeyBackend.SharedModuleReinitializeEvery(intervalSeconds));

    [Fact]
    public void Recover_FailedTokenBesideAServingOne_ReinitializesTheSharedModuleOnlyEveryFewPasses()
    {
        var pin = "pin-" + Guid.NewGuid().ToString("N")[..10];
        var healthy = Pkcs11TestToken.Create("shared-ok", pin);
        var failing = Pkcs11TestToken.Create("shared-bad", pin);
        var options = new Pkcs11BackendOptions
        {
            Library = healthy.Library,
            Tokens = [new Pkcs11TokenOptions { Label = healthy.Label }, new Pkcs11TokenOptions { Label = failing.Label }],
            Pin = pin,
            RecoveryIntervalSeconds = 30,
        };
        using var backend = new Pkcs11KeyBackend(options, NullLogger<Pkcs11KeyBackend>.Instance, TimeProvider.System);
        Assert.All(backend.CheckHealth(), m => Assert.Equal("ACTIVE", m.HealthStatus));

        SoftHsm.Shared.RemoveToken(failing.Label);
        try
        {
            Assert.Equal(["ACTIVE", "UNAVAILABLE"], backend.CheckHealth().Select(m => m.HealthStatus));
            var generation = backend.ModuleGeneration(0);

            backend.Recover();
            Assert.Equal(generation, backend.ModuleGeneration(0));
            Assert.Equal(TokenState.Unavailable, backend.Tokens[1].State);
            Assert.NotEqual(TokenState.Unavailable, backend.Tokens[0].State);

            backend.Recover();
            Assert.Equal(generation + 1, backend.ModuleGeneration(0));
            Assert.Equal(TokenState.Unavailable, backend.Tokens[1].State);
            Assert.NotEqual(TokenState.Unavailable, backend.Tokens[0].State);
        }
        finally
        {
            SoftHsm.Shared.RestoreToken(failing.Label);
        }

        backend.Recover();
        backend.Recover();
        Assert.NotEqual(TokenState.Unavailable, backend.Tokens[1].State);
        Assert.DoesNotContain("UNAVAILABLE", backend.CheckHealth().Select(m => m.HealthStatus));
    }

    [Fact]
    public void Recover_FailedTokenAloneOnItsModule_ReinitializesOnTheFirstPass()
    {
        var token = Pkcs11TestToken.Create("alone");
        var options = new Pkcs11BackendOptions
        {
            Library = token.Library,
            Tokens = [new Pkcs11TokenOptions { Label = token.Label }],
            Pin = token.Pin,
            RecoveryIntervalSeconds = 30,
        };
        using var backend = new Pkcs11KeyBackend(options, NullLogger<Pkcs11KeyBackend>.Instance, TimeProvider.System);
        SoftHsm.Shared.RemoveToken(token.Label);
        try
        {
            Assert.Equal("UNAVAILABLE", Assert.Single(backend.CheckHealth()).HealthStatus);
        }
        finally
        {
            SoftHsm.Shared.RestoreToken(token.Label);
        }

        var generation = backend.ModuleGeneration(0);
        backend.Recover();

        Assert.Equal(generation + 1, backend.ModuleGeneration(0));
        Assert.NotEqual(TokenState.Unavailable, backend.Tokens[0].State);
    }
}
