using System.Text;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Aws.Tests;

public sealed class AwsCredentialsSecretTests
{
    private static V1Secret Secret(params (string Key, string Value)[] data) => new()
    {
        Metadata = new V1ObjectMeta { Name = "aws", NamespaceProperty = "team-a" },
        Data = data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value)),
    };

    [Fact]
    public void TryRead_KeysWithTrailingNewlines_AreTrimmed()
    {
        var ok = AwsCredentialsSecret.TryRead(Secret(("accessKeyId", "AKIAIOSFODNN7EXAMPLE\n"), ("secretAccessKey", "s3cr3t\n")), new V1Alpha1AwsSecretReference { Name = "aws" }, out var keys, out var problem);

        Assert.True(ok, problem);
        Assert.Equal(new AwsSecretKeys("AKIAIOSFODNN7EXAMPLE", "s3cr3t", null), keys);
    }

    [Fact]
    public void TryRead_SessionTokenKeyPresentWithoutReference_IsUsed()
    {
        AwsCredentialsSecret.TryRead(Secret(("accessKeyId", "ASIA"), ("secretAccessKey", "s"), ("sessionToken", "tok")), new V1Alpha1AwsSecretReference { Name = "aws" }, out var keys, out _);

        Assert.Equal("tok", keys!.SessionToken);
    }

    [Fact]
    public void TryRead_CustomKeyNamesAllMissing_ListsEveryMissingKey()
    {
        var reference = new V1Alpha1AwsSecretReference { Name = "aws", AccessKeyIdKey = "id", SecretAccessKeyKey = "secret", SessionTokenKey = "token" };

        var ok = AwsCredentialsSecret.TryRead(Secret(("accessKeyId", "AKIA"), ("secret", "")), reference, out var keys, out var problem);

        Assert.False(ok);
        Assert.Null(keys);
        Assert.Equal(
            "Secret team-a/aws has no non-empty key 'id' (spec.credentials.secretRef.accessKeyIdKey), no non-empty key 'secret' (spec.credentials.secretRef.secretAccessKeyKey), no non-empty key 'token' (spec.credentials.secretRef.sessionTokenKey)",
            problem);
    }

    [Fact]
    public void ToString_HidesTheSecretAndTheToken()
    {
        var text = new AwsSecretKeys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "token-value").ToString();

        Assert.DoesNotContain("wJalrXUtnFEMI", text, StringComparison.Ordinal);
        Assert.DoesNotContain("token-value", text, StringComparison.Ordinal);
    }
}
