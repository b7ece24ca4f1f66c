namespace Xks.KmsEmulator.Policies;

/// <summary>The ARN shapes the policy engine compares.</summary>
internal static class PrincipalArns
{
    /// <summary>
    /// The IAM identity behind a caller: a user ARN as is; an assumed-role session
    /// <c>arn:aws:sts::&lt;acct&gt;:assumed-role/&lt;role&gt;/&lt;session&gt;</c> is its role <c>arn:aws:iam::&lt;acct&gt;:role/&lt;role&gt;</c>.
    /// </summary>
    public static string IdentityOf(string callerArn)
    {
        ArgumentNullException.ThrowIfNull(callerArn);
        var parts = callerArn.Split(':', 6);
        if (parts.Length == 6 && parts[0] == "arn" && parts[2] == "sts" && parts[5].StartsWith("assumed-role/", StringComparison.Ordinal))
        {
            var path = parts[5]["assumed-role/".Length..].Split('/');
            if (path.Length >= 2)
            {
                return $"arn:{parts[1]}:iam::{parts[4]}:role/{path[0]}";
            }
        }

        return callerArn;
    }

    /// <summary>The account a key-policy principal delegates to IAM (<c>"111122223333"</c> or <c>arn:aws:iam::111122223333:root</c>), else null.</summary>
    public static string? DelegatingAccount(string principal)
    {
        if (PolicyDocument.IsAccountId(principal))
        {
            return principal;
        }

        var parts = principal.Split(':', 6);
        return parts.Length == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root" ? parts[4] : null;
    }
}
