using System.Security.Cryptography;
using System.Text;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// A Vault in Shamir mode whose keys the test knows: the unseal key U and every root R_r are drawn here (not by
/// <see cref="ShamirCeremony"/>, which forgets them), sealed into a <see cref="ShamirKeyring"/>, and U is split into
/// custodian share texts. Derived (format 4) keys are computed from R with HMAC-SHA256 written out (RFC 5869), not
/// through the code under test.
/// </summary>
public sealed class ShamirTestVault
{
    public const string DefaultVaultId = "payments_xks";

    private readonly Dictionary<int, byte[]> _roots = [];

    public ShamirTestVault(string vaultId = DefaultVaultId, int threshold = 3, int shares = 5)
    {
        VaultId = vaultId;
        Threshold = threshold;
        UnsealKey = RandomNumberGenerator.GetBytes(32);
        _roots[1] = RandomNumberGenerator.GetBytes(32);
        Keyring = ShamirKeyring.Create(vaultId, threshold, shares, UnsealKey, _roots[1]);
        ShareTexts = [.. Shamir.Split(UnsealKey, threshold, shares).Select(s => CustodianShare.Format(vaultId, threshold, s))];
    }

    public string VaultId { get; }

    public int Threshold { get; }

    public byte[] UnsealKey { get; }

    public ShamirKeyring Keyring { get; private set; }

    /// <summary>Custodian x = i + 1's share text at index i.</summary>
    public IReadOnlyList<string> ShareTexts { get; }

    public byte[] Root(int version) => _roots[version];

    /// <summary>Adds root version max + 1, sealed under U, and makes it current (what a rotation ceremony does); returns the new keyring.</summary>
    public ShamirKeyring AddRoot()
    {
        var version = Keyring.RootVersions[^1] + 1;
        _roots[version] = RandomNumberGenerator.GetBytes(32);
        var sealedRoot = ShamirKeyring.SealRoot(UnsealKey, VaultId, version, _roots[version]);
        var document = Keyring.ToDocument();
        document.Roots.Add(new ShamirRootDocument { Version = version, KeyCheckValue = sealedRoot.KeyCheckValue, Sealed = sealedRoot.Sealed });
        document.CurrentRoot = version;
        return Keyring = ShamirKeyring.FromDocument(document);
    }

    /// <summary>A new format-4 blob (Base64) naming <paramref name="rootVersion"/>.</summary>
    public static string Derived(int rootVersion = 1) => DerivedKey.CreateBase64(rootVersion);

    /// <summary>The key a format-4 blob stands for: HKDF-SHA256(R_rootVersion, salt, info) written out with HMAC-SHA256.</summary>
    public byte[] DerivedKeyOf(string keyId, int version, string derivedBase64)
    {
        var blob = Convert.FromBase64String(derivedBase64);
        var rootVersion = blob[1];
        var prk = HMACSHA256.HashData(blob[2..], _roots[rootVersion]);
        byte[] block = [.. Encoding.UTF8.GetBytes($"xks-proxy:derived-key:{keyId}:v{version}:r{rootVersion}"), 0x01];
        return HMACSHA256.HashData(prk, block);
    }

    /// <summary>A format-2 blob of <paramref name="material"/> wrapped under R_rootVersion (the documented recipe).</summary>
    public string Wrapped(string keyId, int version, byte[] material, int rootVersion = 1) =>
        WrappedKeyVersions.Wrap(_roots[rootVersion], keyId, version, material, rootVersion);
}
