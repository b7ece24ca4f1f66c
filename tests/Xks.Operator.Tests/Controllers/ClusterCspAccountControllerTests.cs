using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>Which ClusterCspAccounts a changed Secret wakes: those naming it, and only for a Secret in the cluster resource namespace.</summary>
public sealed class ClusterCspAccountControllerTests
{
    private static V1Alpha1ClusterCspAccount Account(string name, string? secret) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1Alpha1ClusterCspAccountSpec
        {
            Region = "eu-west-1",
            Credentials = secret is null
                ? new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default }
                : new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Secret, SecretRef = new V1Alpha1AwsSecretReference { Name = secret } },
        },
    };

    private static readonly V1Alpha1ClusterCspAccount[] Accounts = [Account("shared", "aws"), Account("other", "aws-other"), Account("ambient", null)];

    [Fact]
    public void AccountsUsingSecret_SecretInTheClusterResourceNamespace_WakesTheAccountsNamingIt()
    {
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "aws", NamespaceProperty = "xks-system" } };

        Assert.Equal(["shared"], ClusterCspAccountController.AccountsUsingSecret(Accounts, "xks-system", secret).Select(k => k.ToString()));
    }

    [Fact]
    public void AccountsUsingSecret_SameNameInATenantNamespace_WakesNothing()
    {
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "aws", NamespaceProperty = "team-b" } };

        Assert.Empty(ClusterCspAccountController.AccountsUsingSecret(Accounts, "xks-system", secret));
    }
}
