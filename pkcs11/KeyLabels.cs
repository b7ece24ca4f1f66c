using System.Globalization;

namespace Xks.Pkcs11;

/// <summary>
/// How key versions are named inside the HSM: one AES secret-key object per version, <c>CKA_LABEL</c> =
/// <c>&lt;keyId&gt;/v&lt;version&gt;</c> (CKA_ID = the label's UTF-8).
/// </summary>
public static class KeyLabels
{
    /// <summary>The label of the proxy's own health key (one per token; never a customer key).</summary>
    public const string HealthKey = "xks-proxy-health";

    public static string ForVersion(string keyId, int version)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return string.Create(CultureInfo.InvariantCulture, $"{keyId}/v{version}");
    }

    /// <summary>Splits <c>&lt;keyId&gt;/v&lt;n&gt;</c> (n ≥ 1, plain digits, no leading zero); false for anything else.</summary>
    public static bool TryParse(string? label, out string keyId, out int version)
    {
        keyId = "";
        version = 0;
        if (string.IsNullOrEmpty(label))
        {
            return false;
        }

        var slash = label.LastIndexOf("/v", StringComparison.Ordinal);
        if (slash <= 0)
        {
            return false;
        }

        var digits = label.AsSpan(slash + 2);
        if (digits.Length is 0 or > 9 || digits[0] == '0')
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        keyId = label[..slash];
        version = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }
}
