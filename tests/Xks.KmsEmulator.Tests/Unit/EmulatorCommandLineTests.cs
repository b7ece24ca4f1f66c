using Xks.KmsEmulator.Hosting;

namespace Xks.KmsEmulator.Tests.Unit;

public sealed class EmulatorCommandLineTests
{
    [Fact]
    public void Parse_AllOptions_FillOptions()
    {
        var options = EmulatorCommandLine.Parse([
            "--port", "4566", "--region", "eu-west-1", "--account", "444455556666",
            "--credential", "AKIDONE:secret/one+=", "--credential", "AKIDTWO:secret2",
            "--resolve", "xks.example.test:18443:127.0.0.1", "--ca-file", "/tmp/ca.pem",
            "--role-external-id", "arn:aws:iam::444455556666:role/r=ext-1", "--xks-timeout-ms", "500", "--connect-delay-ms", "10",
        ]);
        Assert.Equal(4566, options.Port);
        Assert.Equal("eu-west-1", options.Region);
        Assert.Equal("444455556666", options.AccountId);
        Assert.Equal("secret/one+=", options.Credentials["AKIDONE"]);
        Assert.Equal("secret2", options.Credentials["AKIDTWO"]);
        Assert.Equal("127.0.0.1:18443", options.HostOverrides["xks.example.test"]);
        Assert.Equal("/tmp/ca.pem", options.TrustedCaFile);
        Assert.Equal("ext-1", options.RoleExternalIds["arn:aws:iam::444455556666:role/r"]);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.XksTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.ConnectDelay);
        Assert.Equal(TimeSpan.FromDays(1), options.PendingWindowUnit);
    }

    [Fact]
    public void Parse_PendingWindowUnitMs_SetsTheLengthOfADay()
    {
        var options = EmulatorCommandLine.Parse(["--pending-window-unit-ms", "1000"]);

        Assert.Equal(TimeSpan.FromSeconds(1), options.PendingWindowUnit);
    }

    [Fact]
    public void Parse_IdentityPolicy_ReadsTheFileForTheArn()
    {
        var file = Path.GetTempFileName();
        try
        {
            const string policy = """{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}""";
            File.WriteAllText(file, policy);

            var options = EmulatorCommandLine.Parse(["--identity-policy", $"arn:aws:iam::111122223333:role/app={file}"]);

            Assert.Equal(policy, options.IdentityPolicies["arn:aws:iam::111122223333:role/app"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Parse_MalformedIdentityPolicyFile_ThrowsSayingWhy()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}""");

            var error = Assert.Throws<FormatException>(() => EmulatorCommandLine.Parse(["--identity-policy", $"arn:aws:iam::111122223333:role/app={file}"]));

            Assert.Contains("must not have a Principal", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--identity-policy", "no-equals")]
    [InlineData("--identity-policy", "arn:aws:iam::111122223333:role/app=/nonexistent/policy.json")]
    [InlineData("--credential", "no-colon")]
    [InlineData("--resolve", "host:port")]
    [InlineData("--port", "x")]
    [InlineData("--pending-window-unit-ms", "0")]
    [InlineData("--pending-window-unit-ms", "-5")]
    [InlineData("--unknown", "1")]
    public void Parse_BadOption_Throws(string name, string value) =>
        Assert.Throws<FormatException>(() => EmulatorCommandLine.Parse([name, value]));
}
