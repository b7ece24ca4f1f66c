using Net.Pkcs11Interop.Common;
using Xks.Proxy.Errors;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>The PKCS#11 operations whose return codes map to XKS errors.</summary>
public enum Pkcs11Operation
{
    Encrypt,
    Decrypt,
}

/// <summary>
/// The one place PKCS#11 return codes become XKS errors (per operation), and where the two side decisions are made:
/// whether the session goes back to the pool (<see cref="ShouldEvictSession"/>) and whether the token itself is
/// failing, so the request moves to the next token (<see cref="IsTokenFault"/>). Data errors keep the session and the
/// token: the caller sent something wrong, the HSM is fine.
/// </summary>
public static class Pkcs11ErrorMap
{
    /// <summary>The XKS error a return code of <paramref name="operation"/> answers with.</summary>
    public static XksErrorName Map(Pkcs11Operation operation, CKR rv) => operation switch
    {
        Pkcs11Operation.Encrypt => ForEncrypt(rv),
        Pkcs11Operation.Decrypt => ForDecrypt(rv),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    public static XksErrorName ForEncrypt(CKR rv) => rv switch
    {
        CKR.CKR_KEY_FUNCTION_NOT_PERMITTED => XksErrorName.InvalidKeyUsageException,
        _ => XksErrorName.InternalException,
    };

    /// <summary>
    /// Bad ciphertext, IV, tag or AAD: GCM tag failures surface as CKR_ENCRYPTED_DATA_INVALID (the standard),
    /// CKR_GENERAL_ERROR (SoftHSM2) or CKR_FUNCTION_FAILED (nShield), length problems as the *_LEN_RANGE codes.
    /// </summary>
    public static XksErrorName ForDecrypt(CKR rv) => rv switch
    {
        CKR.CKR_KEY_FUNCTION_NOT_PERMITTED => XksErrorName.InvalidKeyUsageException,
        CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_GENERAL_ERROR or CKR.CKR_FUNCTION_FAILED
            or CKR.CKR_DATA_INVALID or CKR.CKR_DATA_LEN_RANGE => XksErrorName.InvalidCiphertextException,
        _ => XksErrorName.InternalException,
    };

    /// <summary>
    /// Whether the session must be closed instead of pooled again. Kept for answers about the request's data
    /// (key usage, ciphertext and lengths; on Decrypt also the tag failures above) — the operation ended, the session
    /// is clean. Every other code may leave the session in an unknown state.
    /// </summary>
    public static bool ShouldEvictSession(Pkcs11Operation operation, CKR rv) => rv switch
    {
        CKR.CKR_KEY_FUNCTION_NOT_PERMITTED or CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE
            or CKR.CKR_DATA_INVALID or CKR.CKR_DATA_LEN_RANGE => false,
        CKR.CKR_GENERAL_ERROR or CKR.CKR_FUNCTION_FAILED => operation != Pkcs11Operation.Decrypt,
        _ => true,
    };

    /// <summary>
    /// The token (or its module) is gone or broken, not the request: mark it failed, fail over to the next token,
    /// and let the recovery loop re-initialise it. CKR_OBJECT_HANDLE_INVALID joins these only when re-finding the
    /// object by its label failed too (decided by the caller).
    /// </summary>
    public static bool IsTokenFault(CKR rv) => rv is CKR.CKR_DEVICE_ERROR or CKR.CKR_DEVICE_REMOVED or CKR.CKR_DEVICE_MEMORY
        or CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_TOKEN_NOT_RECOGNIZED or CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED
        or CKR.CKR_CRYPTOKI_NOT_INITIALIZED or CKR.CKR_USER_NOT_LOGGED_IN;
}
