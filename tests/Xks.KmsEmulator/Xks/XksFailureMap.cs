using Xks.KmsEmulator.Kms;

namespace Xks.KmsEmulator.Xks;

/// <summary>How KMS surfaces a failed XKS call, per operation (XKS-SPEC §6 "How KMS surfaces proxy errors").</summary>
internal static class XksFailureMap
{
    /// <summary>CreateCustomKeyStore and UpdateCustomKeyStore (health check).</summary>
    public static KmsException ForKeyStoreChange(XksFailure failure) => new(failure.Kind switch
    {
        XksFailureKind.ProxyError => failure.ErrorName switch
        {
            "AuthenticationFailedException" => "XksProxyIncorrectAuthenticationCredentialException",
            "InvalidUriPathException" => "XksProxyInvalidConfigurationException",
            "ThrottlingException" or "DependencyTimeoutException" => "XksProxyUriUnreachableException",
            _ => "XksProxyInvalidResponseException",
        },
        XksFailureKind.InvalidResponse => "XksProxyInvalidResponseException",
        _ => "XksProxyUriUnreachableException",
    }, failure.Message);

    /// <summary>The ConnectionErrorCode of a key store whose connect health check failed.</summary>
    public static string ConnectionErrorCode(XksFailure failure) => failure.Kind switch
    {
        XksFailureKind.ProxyError => failure.ErrorName switch
        {
            "AuthenticationFailedException" => "INVALID_CREDENTIALS",
            "AccessDeniedException" => "XKS_PROXY_ACCESS_DENIED",
            "InvalidUriPathException" => "XKS_PROXY_INVALID_CONFIGURATION",
            "ThrottlingException" or "DependencyTimeoutException" => "XKS_PROXY_NOT_REACHABLE",
            _ => "XKS_PROXY_INVALID_RESPONSE",
        },
        XksFailureKind.InvalidResponse => "XKS_PROXY_INVALID_RESPONSE",
        XksFailureKind.TimedOut => "XKS_PROXY_TIMED_OUT",
        XksFailureKind.TlsFailure => "XKS_PROXY_INVALID_TLS_CONFIGURATION",
        _ => "XKS_PROXY_NOT_REACHABLE",
    };

    /// <summary>CreateKey (GetKeyMetadata).</summary>
    public static KmsException ForCreateKey(XksFailure failure) => new(failure.Kind switch
    {
        XksFailureKind.ProxyError => failure.ErrorName switch
        {
            "KeyNotFoundException" => "XksKeyNotFoundException",
            "InvalidStateException" or "InvalidKeyUsageException" => "XksKeyInvalidConfigurationException",
            "AccessDeniedException" => "KMSInvalidStateException",
            "UnsupportedOperationException" => "XksKeyInvalidResponseException",
            _ => "CustomKeyStoreInvalidStateException",
        },
        _ => "CustomKeyStoreInvalidStateException",
    }, failure.Message);

    /// <summary>Encrypt, Decrypt, GenerateDataKey: every proxy failure is a KMSInvalidStateException whose message says why.</summary>
    public static KmsException ForCrypto(XksFailure failure) => KmsException.InvalidState(failure.Message);
}
