namespace Xks.Operator.Aws;

/// <summary>
/// A KMS key ARN, <c>arn:&lt;partition&gt;:kms:&lt;region&gt;:&lt;account&gt;:key/&lt;key-id&gt;</c>: where a key lives. KMS is
/// regional and per account, so "not found" only means "deleted" when asked in the key's own region and account.
/// </summary>
public sealed record KmsKeyArn(string Partition, string Region, string Account, string KeyId)
{
    /// <summary>Parses <paramref name="text"/>; false for anything that is not a KMS key ARN (an alias ARN included).</summary>
    public static bool TryParse(string? text, out KmsKeyArn arn)
    {
        arn = new KmsKeyArn("", "", "", "");
        var parts = (text ?? "").Split(':');
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "kms" || !parts[5].StartsWith("key/", StringComparison.Ordinal))
        {
            return false;
        }

        var keyId = parts[5]["key/".Length..];
        if (parts[1].Length == 0 || parts[3].Length == 0 || parts[4].Length != 12 || !parts[4].All(char.IsAsciiDigit) || keyId.Length == 0)
        {
            return false;
        }

        arn = new KmsKeyArn(parts[1], parts[3], parts[4], keyId);
        return true;
    }

    public override string ToString() => $"arn:{Partition}:kms:{Region}:{Account}:key/{KeyId}";
}
