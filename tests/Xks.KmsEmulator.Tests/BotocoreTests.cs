using System.Diagnostics;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests;

/// <summary>A second, independent client: Debian's python3-botocore (its own SigV4 signer and KMS model).</summary>
public sealed class BotocoreTests
{
    private const string Script = """
        import os, botocore.session
        s = botocore.session.get_session()
        kms = s.create_client("kms", region_name="us-east-1", endpoint_url=os.environ["EMULATOR_URL"],
                              aws_access_key_id=os.environ["AKID"], aws_secret_access_key=os.environ["SECRET"])
        key = kms.create_key(Description="from botocore", Tags=[{"TagKey": "client", "TagValue": "botocore"}])["KeyMetadata"]
        assert key["KeyState"] == "Enabled" and key["CreationDate"].year >= 2025, key
        blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"abc", EncryptionContext={"a": "1"})["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "1"})["Plaintext"] == b"abc"
        try:
            kms.describe_key(KeyId="alias/missing")
            raise SystemExit("expected NotFoundException")
        except kms.exceptions.NotFoundException:
            pass
        print("ok", len(kms.list_keys()["Keys"]))
        """;

    [Fact]
    public async Task Botocore_KmsClient_CreatesKeyAndRoundTrips()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.Environment["EMULATOR_URL"] = emulator.Server.Url.ToString();
        start.Environment["AKID"] = EmulatorHarness.AccessKeyId;
        start.Environment["SECRET"] = EmulatorHarness.Secret;
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var python = Process.Start(start)!;
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(python.ExitCode == 0, await stderr);
        Assert.Equal("ok 1", (await stdout).Trim());
    }
}
