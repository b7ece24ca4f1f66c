using System.Net;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Hosting.Tests;

/// <summary>
/// <c>xks-proxy admin unseal|seal-status</c> against a real proxy in Shamir mode (in process, and as a child process),
/// and <c>serve --admin-port</c>.
/// </summary>
public sealed class AdminCommandTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-admin-cli-").FullName;
    private readonly ShamirTestVault _vault = new();
    private ProxyServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await ProxyServer.StartAsync(
            b =>
            {
                b.CreateMissingKeys = false;
                b.ShamirKeyring = _vault.Keyring;
                b.Key("orders", versions: [(1, ShamirTestVault.Derived(1))]);
            },
            directory: Path.Combine(_directory, "proxy"));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string ShareFile(int index, string? text = null)
    {
        var path = Path.Combine(_directory, $"share-{index}.txt");
        File.WriteAllText(path, (text ?? _vault.ShareTexts[index]) + "\n");
        return path;
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await AdminCommand.RunAsync(args, new StringReader(stdin), output, error);
        return (exit, output.ToString().TrimEnd(), error.ToString().TrimEnd());
    }

    private Task<(int Exit, string Output, string Error)> UnsealAsync(string shareFile) =>
        RunAsync("", "unseal", "--url", _server.AdminAddress.ToString(), "--share-file", shareFile);

    [Fact]
    public async Task Unseal_ThreeCustodians_OneLineEach_AndTheProxyServes()
    {
        var status = await RunAsync("", "seal-status", "--url", _server.AdminAddress.ToString());
        var first = await UnsealAsync(ShareFile(0));
        var second = await RunAsync(_vault.ShareTexts[3] + "\n", "unseal", "--url", _server.AdminAddress.ToString(), "--share-file", "-");
        var third = await UnsealAsync(ShareFile(4));
        var again = await UnsealAsync(ShareFile(1));
        var after = await RunAsync("", "seal-status", "--url", _server.AdminAddress.ToString());

        Assert.Equal((ProxyCommandLine.ExitOk, "sealed: 0 of 3 shares given (root version 1)", ""), status);
        Assert.Equal((ProxyCommandLine.ExitOk, "accepted: 1 of 3 shares given; the proxy stays sealed until 2 more custodian(s) give theirs", ""), first);
        Assert.Equal((ProxyCommandLine.ExitOk, "accepted: 2 of 3 shares given; the proxy stays sealed until 1 more custodian(s) give theirs", ""), second);
        Assert.Equal((ProxyCommandLine.ExitOk, "unsealed: the proxy serves its keys (root version 1)", ""), third);
        Assert.Equal((ProxyCommandLine.ExitOk, "already unsealed: the share was not used", ""), again);
        Assert.Equal((ProxyCommandLine.ExitOk, "unsealed (root version 1)", ""), after);
        using var client = new XksClient(_server.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("orders", [1, 2, 3])).Status);
    }

    [Fact]
    public async Task Unseal_RefusedShares_ExitOneWithTheProxysReason()
    {
        var otherCeremony = new ShamirTestVault();
        var altered = _vault.ShareTexts[1][..^1] + (_vault.ShareTexts[1][^1] == 'A' ? 'B' : 'A');

        var malformed = await UnsealAsync(ShareFile(1, altered));
        await UnsealAsync(ShareFile(0));
        await UnsealAsync(ShareFile(2));
        var wrong = await UnsealAsync(ShareFile(3, otherCeremony.ShareTexts[3]));

        Assert.Equal((AdminCommand.ExitRefused, "", "xks-proxy: refused (MalformedShare): checksum mismatch: the share was mistyped or altered"), malformed);
        Assert.Equal((AdminCommand.ExitRefused, "", "xks-proxy: refused (WrongShares): the 3 shares do not reconstruct this Vault's unseal key; progress was reset: check that every custodian used this Vault's share"), wrong);
        Assert.DoesNotContain(_vault.ShareTexts[1].Split('.')[4], malformed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unseal_NobodyListening_ExitsOne()
    {
        var port = TestPorts.GetFree();

        var result = await RunAsync("", "unseal", "--url", $"http://127.0.0.1:{port}", "--share-file", ShareFile(0));

        Assert.Equal(AdminCommand.ExitRefused, result.Exit);
        Assert.StartsWith($"xks-proxy: cannot reach the unseal API at http://127.0.0.1:{port}/", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unseal_UnreadableOrEmptyShareFile_ExitsTwo()
    {
        var missing = await UnsealAsync(Path.Combine(_directory, "absent.txt"));
        var empty = await UnsealAsync(ShareFile(0, "  "));

        Assert.Equal(ProxyCommandLine.ExitConfigError, missing.Exit);
        Assert.StartsWith("xks-proxy: --share-file: cannot read", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ProxyCommandLine.ExitConfigError, empty.Exit);
        Assert.EndsWith("is empty", empty.Error, StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal("""{"sealed":true,"threshold":3,"progress":0,"rootVersions":[1]}""", await http.GetStringAsync(new Uri(_server.AdminAddress, "/admin/v1/seal-status")));
    }

    [Theory]
    [InlineData(new string[0], "admin needs a subcommand")]
    [InlineData(new[] { "unlock" }, "unknown admin command 'unlock'")]
    [InlineData(new[] { "unseal", "--share-file", "f" }, "admin unseal needs --url")]
    [InlineData(new[] { "unseal", "--url", "http://127.0.0.1:9444" }, "admin unseal needs --share-file PATH")]
    [InlineData(new[] { "unseal", "--url", "ftp://127.0.0.1:9444", "--share-file", "f" }, "--url: 'ftp://127.0.0.1:9444' is not the address of an unseal API")]
    [InlineData(new[] { "unseal", "--url", "http://127.0.0.1:9444/admin/v1/unseal", "--share-file", "f" }, "is not the address of an unseal API")]
    [InlineData(new[] { "seal-status", "--url", "http://127.0.0.1:9444", "--share-file", "f" }, "admin seal-status takes no --share-file")]
    [InlineData(new[] { "seal-status", "--url" }, "unexpected argument '--url'")]
    public void Parse_BadUsage_SaysWhat(string[] args, string problem)
    {
        Assert.Null(AdminCommand.Parse(args, out var message));
        Assert.Contains(problem, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandLine_AdminBadUsage_ExitsTwo() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["admin", "unseal", "--url", "http://127.0.0.1:9444"]));

    [Fact]
    public async Task Unseal_AsAProcess_AcceptsTheShare_AndPrintsNoShare()
    {
        var result = await ProxyProcess.RunToExitAsync(_directory, ["admin", "unseal", "--url", _server.AdminAddress.ToString(), "--share-file", ShareFile(2)], TimeSpan.FromSeconds(60));

        Assert.Equal(ProxyCommandLine.ExitOk, result.ExitCode);
        Assert.Equal("accepted: 1 of 3 shares given; the proxy stays sealed until 2 more custodian(s) give theirs", result.StandardOutput.Trim());
        Assert.DoesNotContain(_vault.ShareTexts[2].Split('.')[4], result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_AdminPortFlag_MovesTheUnsealApi()
    {
        var configured = TestPorts.GetFree();
        var overridden = TestPorts.GetFree();
        await using var proxy = await ProxyProcess.StartAsync(
            ProxyProcess.CreateDirectory(),
            port => new ProxyConfigBuilder { CreateMissingKeys = false, ShamirKeyring = _vault.Keyring, ShamirAdminPort = configured }
                .Key("orders", versions: [(1, ShamirTestVault.Derived(1))])
                .Build(port, "data", "audit.log"),
            extraArguments: ["--admin-port", overridden.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        var status = await RunAsync("", "seal-status", "--url", $"http://127.0.0.1:{overridden}");
        var onConfigured = await RunAsync("", "seal-status", "--url", $"http://127.0.0.1:{configured}");

        Assert.Equal((ProxyCommandLine.ExitOk, "sealed: 0 of 3 shares given (root version 1)", ""), status);
        Assert.Equal(AdminCommand.ExitRefused, onConfigured.Exit);
    }
}
