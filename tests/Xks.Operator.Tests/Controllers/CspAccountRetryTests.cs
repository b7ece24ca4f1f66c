using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

/// <summary>The failing-account backoff lives in the status (Ready's last transition), so it survives a restart and needs no memory.</summary>
public class CspAccountRetryTests
{
    public static TheoryData<string, double, double> Cases => new()
    {
        { "a failure just seen is checked again after 5 s", 0, 5 },
        { "a clock behind the status still waits 5 s", -30, 5 },
        { "after 5 s of failing, 5 s more", 5, 5 },
        { "after 20 s of failing, 20 s more: the delay doubles each check", 20, 20 },
        { "after 160 s, 160 s more", 160, 160 },
        { "never longer than 5 minutes", 3600, 300 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RetryDelay_FailingFor_WaitsAsLongAgainWithinBounds(string scenario, double failingSeconds, double expectedSeconds)
    {
        Assert.True(
            TimeSpan.FromSeconds(expectedSeconds) == CspAccountController.RetryDelay(TimeSpan.FromSeconds(failingSeconds)),
            $"{scenario}: got {CspAccountController.RetryDelay(TimeSpan.FromSeconds(failingSeconds))}");
    }

    [Theory]
    [InlineData(true, 0, 600)]
    [InlineData(true, 3600, 600)]
    [InlineData(false, 0, 5)]
    [InlineData(false, 40, 40)]
    public void NextVerification_VerifiedOrFailing_TenMinutesOrTheBackoff(bool verified, double failingSeconds, double expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), CspAccountController.NextVerification(verified, TimeSpan.FromSeconds(failingSeconds)));

    public static TheoryData<string, string, string, string[]> SecretCases => new()
    {
        { "the Secret an account names wakes it", "team-a", "aws-credentials", ["prod"] },
        { "two accounts naming one Secret both wake", "team-a", "shared", ["dev", "stage"] },
        { "a Secret nobody names wakes nothing", "team-a", "unrelated", [] },
        { "the same name in another namespace wakes nothing", "team-b", "aws-credentials", [] },
    };

    [Theory]
    [MemberData(nameof(SecretCases))]
    public void AccountsUsingSecret_ChangedSecret_WakesTheAccountsWhoseSecretRefNamesIt(string scenario, string ns, string secret, string[] expected)
    {
        V1Alpha1CspAccount[] accounts =
        [
            Account("team-a", "prod", V1Alpha1CredentialsSource.Secret, "aws-credentials"),
            Account("team-a", "dev", V1Alpha1CredentialsSource.Secret, "shared"),
            Account("team-a", "stage", V1Alpha1CredentialsSource.Secret, "shared"),
            Account("team-a", "ambient", V1Alpha1CredentialsSource.Default, "aws-credentials"),
        ];

        var woken = CspAccountController.AccountsUsingSecret(
            n => accounts.Where(a => a.Metadata.NamespaceProperty == n),
            new V1Secret { Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = secret } });

        Assert.True(expected.SequenceEqual(woken.Select(k => k.Name).Order(StringComparer.Ordinal)), $"{scenario}: woke {string.Join(", ", woken.Select(k => k.Name))}");
    }

    private static V1Alpha1CspAccount Account(string ns, string name, V1Alpha1CredentialsSource source, string secret) => new()
    {
        Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name },
        Spec = new V1Alpha1CspAccountSpec { Credentials = new V1Alpha1AwsCredentials { Source = source, SecretRef = new V1Alpha1AwsSecretReference { Name = secret } } },
    };
}
