using System.Security.Cryptography;
using Xks.Contracts.KeyWrap;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The key ceremony of a Vault in <c>Shamir</c> mode, run by its custodians with an admin tool (never by the operator,
/// which must not see the unseal key): draw the unseal key U and the first root key R_1, seal R_1 under U into the
/// keyring, split U k-of-n into the custodians' share texts, and forget both keys.
/// </summary>
public static class ShamirCeremony
{
    /// <summary>
    /// A new keyring for <paramref name="vaultId"/> (root version 1, current) and the text of each of the
    /// <paramref name="shares"/> custodian shares of its unseal key, any <paramref name="threshold"/> of which unseal it
    /// (share i has x = i + 1). The texts are secret: hand each to its custodian and do not log them. Every key buffer
    /// (U, R_1, the raw shares) is zeroed before returning.
    /// </summary>
    /// <exception cref="ArgumentException">The vault id is not one (<see cref="CustodianShare.IsValidVaultId"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">Not 2 ≤ threshold ≤ shares ≤ 255.</exception>
    public static (ShamirKeyring Keyring, IReadOnlyList<string> ShareTexts) Initialize(string vaultId, int threshold, int shares)
    {
        ArgumentNullException.ThrowIfNull(vaultId);
        if (!CustodianShare.IsValidVaultId(vaultId))
        {
            throw new ArgumentException(
                $"'{vaultId}' is not a vault id: 1 to {CustodianShare.MaxVaultIdLength} characters of a-z, 0-9, '-' and '_', starting and ending with a letter or digit.",
                nameof(vaultId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, Shamir.MinThreshold);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shares, Shamir.MaxShares);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threshold, shares);

        var unsealKey = GC.AllocateArray<byte>(WrappedKey.KeySize, pinned: true);
        var root = GC.AllocateArray<byte>(WrappedKey.KeySize, pinned: true);
        byte[][] raw = [];
        try
        {
            RandomNumberGenerator.Fill(unsealKey);
            RandomNumberGenerator.Fill(root);
            var keyring = ShamirKeyring.Create(vaultId, threshold, shares, unsealKey, root);
            raw = Shamir.Split(unsealKey, threshold, shares);
            var texts = raw.Select(share => CustodianShare.Format(vaultId, threshold, share)).ToArray();
            return (keyring, Array.AsReadOnly(texts));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(unsealKey);
            CryptographicOperations.ZeroMemory(root);
            foreach (var share in raw)
            {
                CryptographicOperations.ZeroMemory(share);
            }
        }
    }
}
