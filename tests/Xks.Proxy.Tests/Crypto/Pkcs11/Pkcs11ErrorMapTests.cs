using Net.Pkcs11Interop.Common;
using Xks.Proxy.Errors;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>The PKCS#11 return-code tables, checked for every CKR value Pkcs11Interop knows.</summary>
public sealed class Pkcs11ErrorMapTests
{
    private static readonly CKR[] BadCiphertext =
        [CKR.CKR_ENCRYPTED_DATA_INVALID, CKR.CKR_ENCRYPTED_DATA_LEN_RANGE, CKR.CKR_GENERAL_ERROR, CKR.CKR_FUNCTION_FAILED, CKR.CKR_DATA_INVALID, CKR.CKR_DATA_LEN_RANGE];

    private static readonly CKR[] TokenFaults =
    [
        CKR.CKR_DEVICE_ERROR, CKR.CKR_DEVICE_REMOVED, CKR.CKR_DEVICE_MEMORY, CKR.CKR_TOKEN_NOT_PRESENT, CKR.CKR_TOKEN_NOT_RECOGNIZED,
        CKR.CKR_SESSION_HANDLE_INVALID, CKR.CKR_SESSION_CLOSED, CKR.CKR_CRYPTOKI_NOT_INITIALIZED, CKR.CKR_USER_NOT_LOGGED_IN,
    ];

    private static readonly CKR[] KeptSessions =
        [CKR.CKR_KEY_FUNCTION_NOT_PERMITTED, CKR.CKR_ENCRYPTED_DATA_INVALID, CKR.CKR_ENCRYPTED_DATA_LEN_RANGE, CKR.CKR_DATA_INVALID, CKR.CKR_DATA_LEN_RANGE];

    private static readonly CKR[] AllCodes = [.. Enum.GetValues<CKR>().Distinct()];

    /// <summary>Every CKR for which <paramref name="check"/> is false, named (empty when the table holds).</summary>
    private static List<string> Mismatches(Func<CKR, bool> check) => [.. AllCodes.Where(rv => !check(rv)).Select(rv => rv.ToString())];

    [Fact]
    public void ForEncrypt_EveryCode_IsKeyUsageOrInternal()
    {
        Assert.Empty(Mismatches(rv =>
        {
            var expected = rv == CKR.CKR_KEY_FUNCTION_NOT_PERMITTED ? XksErrorName.InvalidKeyUsageException : XksErrorName.InternalException;
            return Pkcs11ErrorMap.ForEncrypt(rv) == expected && Pkcs11ErrorMap.Map(Pkcs11Operation.Encrypt, rv) == expected;
        }));
    }

    [Fact]
    public void ForDecrypt_EveryCode_IsKeyUsageBadCiphertextOrInternal()
    {
        Assert.Empty(Mismatches(rv =>
        {
            var expected = rv == CKR.CKR_KEY_FUNCTION_NOT_PERMITTED ? XksErrorName.InvalidKeyUsageException
                : BadCiphertext.Contains(rv) ? XksErrorName.InvalidCiphertextException
                : XksErrorName.InternalException;
            return Pkcs11ErrorMap.ForDecrypt(rv) == expected && Pkcs11ErrorMap.Map(Pkcs11Operation.Decrypt, rv) == expected;
        }));
    }

    [Fact]
    public void ShouldEvictSession_EveryCode_KeepsTheSessionOnlyForDataErrors()
    {
        Assert.Empty(Mismatches(rv =>
        {
            var tagFailure = rv is CKR.CKR_GENERAL_ERROR or CKR.CKR_FUNCTION_FAILED;
            return Pkcs11ErrorMap.ShouldEvictSession(Pkcs11Operation.Decrypt, rv) == (!KeptSessions.Contains(rv) && !tagFailure)
                && Pkcs11ErrorMap.ShouldEvictSession(Pkcs11Operation.Encrypt, rv) == !KeptSessions.Contains(rv);
        }));
    }

    [Fact]
    public void IsTokenFault_EveryCode_OnlyDeviceTokenAndSessionLoss()
    {
        Assert.Empty(Mismatches(rv => Pkcs11ErrorMap.IsTokenFault(rv) == TokenFaults.Contains(rv)));
    }

    [Fact]
    public void TokenFaults_AreNeverRequestErrors_AndAlwaysEvict()
    {
        Assert.Empty(Mismatches(rv => !Pkcs11ErrorMap.IsTokenFault(rv)
            || (Pkcs11ErrorMap.ForDecrypt(rv) == XksErrorName.InternalException && Pkcs11ErrorMap.ShouldEvictSession(Pkcs11Operation.Decrypt, rv))));
    }

    [Fact]
    public void ObjectHandleInvalid_AloneIsNotATokenFault()
    {
        // It becomes one only when re-finding the object by its label fails too (Pkcs11Token decides).
        Assert.False(Pkcs11ErrorMap.IsTokenFault(CKR.CKR_OBJECT_HANDLE_INVALID));
        Assert.True(AllCodes.Length > 80);
    }
}
