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
}
