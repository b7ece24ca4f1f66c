using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Tests.Unit;

public sealed class XksFailureMapTests
{
    [Theory]
    [InlineData("ProxyError", "AuthenticationFailedException", "XksProxyIncorrectAuthenticationCredentialException", "INVALID_CREDENTIALS", "CustomKeyStoreInvalidStateException")]
    [InlineData("ProxyError", "InvalidUriPathException", "XksProxyInvalidConfigurationException", "XKS_PROXY_INVALID_CONFIGURATION", "CustomKeyStoreInvalidStateException")]
    [InlineData("ProxyError", "AccessDeniedException", "XksProxyInvalidResponseException", "XKS_PROXY_ACCESS_DENIED", "KMSInvalidStateException")]
    [InlineData("ProxyError", "KeyNotFoundException", "XksProxyInvalidResponseException", "XKS_PROXY_INVALID_RESPONSE", "XksKeyNotFoundException")]
    [InlineData("ProxyError", "InvalidStateException", "XksProxyInvalidResponseException", "XKS_PROXY_INVALID_RESPONSE", "XksKeyInvalidConfigurationException")]
    [InlineData("ProxyError", "ThrottlingException", "XksProxyUriUnreachableException", "XKS_PROXY_NOT_REACHABLE", "CustomKeyStoreInvalidStateException")]
    [InlineData("InvalidResponse", null, "XksProxyInvalidResponseException", "XKS_PROXY_INVALID_RESPONSE", "CustomKeyStoreInvalidStateException")]
    [InlineData("Unreachable", null, "XksProxyUriUnreachableException", "XKS_PROXY_NOT_REACHABLE", "CustomKeyStoreInvalidStateException")]
    [InlineData("TimedOut", null, "XksProxyUriUnreachableException", "XKS_PROXY_TIMED_OUT", "CustomKeyStoreInvalidStateException")]
    [InlineData("TlsFailure", null, "XksProxyUriUnreachableException", "XKS_PROXY_INVALID_TLS_CONFIGURATION", "CustomKeyStoreInvalidStateException")]
    public void Map_Failure_GivesKmsErrorsPerOperation(string kind, string? errorName, string storeChange, string connectionErrorCode, string createKey)
    {
        var failure = new XksFailure(Enum.Parse<XksFailureKind>(kind), "why", errorName);
        Assert.Equal(storeChange, XksFailureMap.ForKeyStoreChange(failure).Type);
        Assert.Equal(connectionErrorCode, XksFailureMap.ConnectionErrorCode(failure));
        Assert.Equal(createKey, XksFailureMap.ForCreateKey(failure).Type);
        Assert.Equal("KMSInvalidStateException", XksFailureMap.ForCrypto(failure).Type);
    }
}
