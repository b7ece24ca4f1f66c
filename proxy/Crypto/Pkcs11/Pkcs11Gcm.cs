using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;
using Net.Pkcs11Interop.LowLevelAPI80;
using Net.Pkcs11Interop.LowLevelAPI80.MechanismParams;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Errors;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>
/// CKM_AES_GCM in a token with a 128-bit tag, the IV made as the HSM requires (<see cref="Pkcs11IvGeneration"/>):
/// the token returns ciphertext | tag (| IV with HsmAppendsIv), which is split into the spec's three fields.
/// </summary>
internal static class Pkcs11Gcm
{
    public const int IvSize = 12;
    public const int TagSize = 16;

    public static void Encrypt(
        ISession session,
        IObjectHandle key,
        Pkcs11IvGeneration mode,
        Func<Pkcs11Library> lowLevel,
        byte[] plaintext,
        byte[] aad,
        Span<byte> iv,
        Span<byte> ciphertext,
        Span<byte> tag)
    {
        byte[] output;
        switch (mode)
        {
            case Pkcs11IvGeneration.Proxy:
                var fresh = session.GenerateRandom(IvSize);
                output = EncryptHighLevel(session, key, fresh, aad, plaintext);
                fresh.CopyTo(iv);
                break;
            case Pkcs11IvGeneration.HsmAppendsIv:
                output = EncryptHighLevel(session, key, null, aad, plaintext);
                if (output.Length == plaintext.Length + TagSize + IvSize)
                {
                    output.AsSpan(plaintext.Length + TagSize, IvSize).CopyTo(iv);
                }

                break;
            case Pkcs11IvGeneration.HsmWritesIv:
                output = EncryptWritingIv(session, key, lowLevel(), aad, plaintext, iv);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }

        try
        {
            var expected = plaintext.Length + TagSize + (mode == Pkcs11IvGeneration.HsmAppendsIv ? IvSize : 0);
            if (output.Length != expected)
            {
                throw new XksException(XksErrorName.InternalException, "The key manager returned an unexpected result.",
                    $"CKM_AES_GCM encrypt of {plaintext.Length} bytes returned {output.Length} bytes, expected {expected} (ivGeneration {mode})");
            }

            if (mode != Pkcs11IvGeneration.Proxy && !iv.ContainsAnyExcept((byte)0))
            {
                throw new XksException(XksErrorName.InternalException, "The key manager did not produce an IV.",
                    $"ivGeneration {mode}: the HSM returned an all-zero GCM IV (it did not generate one); refusing to return a ciphertext under a zero IV. Check backend.pkcs11.ivGeneration for this HSM (SoftHSM2: Proxy; CloudHSM, nShield: HsmWritesIv; Luna: HsmAppendsIv)");
            }

            output.AsSpan(0, plaintext.Length).CopyTo(ciphertext);
            output.AsSpan(plaintext.Length, TagSize).CopyTo(tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output);
        }
    }

    /// <summary>The plaintext of ciphertext | tag; a Pkcs11Exception when the tag does not verify.</summary>
    public static byte[] Decrypt(ISession session, IObjectHandle key, byte[] iv, byte[] aad, byte[] ciphertextAndTag)
    {
        using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(iv, (ulong)iv.Length * 8, aad, TagSize * 8);
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        return session.Decrypt(mechanism, key, ciphertextAndTag);
    }

    private static byte[] EncryptHighLevel(ISession session, IObjectHandle key, byte[]? iv, byte[] aad, byte[] plaintext)
    {
        using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(iv, (ulong)(iv?.Length ?? 0) * 8, aad, TagSize * 8);
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        return session.Encrypt(mechanism, key, plaintext);
    }

    /// <summary>
    /// HsmWritesIv: a zeroed 12-byte IV buffer goes in and the HSM writes the IV it chose into it. The high-level API
    /// copies the IV into memory it never reads back, so this builds CK_GCM_PARAMS itself and reads the buffer after
    /// C_Encrypt.
    /// </summary>
    private static byte[] EncryptWritingIv(ISession session, IObjectHandle key, Pkcs11Library library, byte[] aad, byte[] plaintext, Span<byte> iv)
    {
        var ivBuffer = Marshal.AllocHGlobal(IvSize);
        var aadBuffer = Marshal.AllocHGlobal(Math.Max(aad.Length, 1));
        var mechanism = default(CK_MECHANISM);
        try
        {
            Marshal.Copy(new byte[IvSize], 0, ivBuffer, IvSize);
            Marshal.Copy(aad, 0, aadBuffer, aad.Length);
            var parameters = new CK_GCM_PARAMS
            {
                Iv = ivBuffer,
                IvLen = IvSize,
                IvBits = IvSize * 8,
                AAD = aad.Length == 0 ? IntPtr.Zero : aadBuffer,
                AADLen = (ulong)aad.Length,
                TagBits = TagSize * 8,
            };
            mechanism = CkmUtils.CreateMechanism(CKM.CKM_AES_GCM, parameters);
            var rv = library.C_EncryptInit(session.SessionId, ref mechanism, key.ObjectId);
            if (rv != CKR.CKR_OK)
            {
                throw new Pkcs11Exception("C_EncryptInit", rv);
            }

            var output = new byte[plaintext.Length + TagSize];
            var length = (ulong)output.Length;
            rv = library.C_Encrypt(session.SessionId, plaintext, (ulong)plaintext.Length, output, ref length);
            if (rv != CKR.CKR_OK)
            {
                throw new Pkcs11Exception("C_Encrypt", rv);
            }

            var written = new byte[IvSize];
            Marshal.Copy(ivBuffer, written, 0, IvSize);
            written.CopyTo(iv);
            return length == (ulong)output.Length ? output : output[..(int)Math.Min(length, (ulong)output.Length)];
        }
        finally
        {
            UnmanagedMemory.Free(ref mechanism.Parameter);
            Marshal.FreeHGlobal(ivBuffer);
            Marshal.FreeHGlobal(aadBuffer);
        }
    }
}
