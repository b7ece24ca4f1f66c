using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Xks.Proxy.Health;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>
/// The proxy on Kestrel in Shamir mode: sealed at start (/readyz 503, health UNAVAILABLE, keys refused), the unseal API
/// on its own 127.0.0.1 listener collecting custodians' shares, refusing what cannot count, detecting a wrong set, and
/// unsealing with k right shares so format-4 and format-2 keys serve at once; a new root brought by a reload serves
/// without a second unseal.
/// </summary>
public sealed class ShamirUnsealEndpointTests : IAsyncLifetime
{
    private readonly ShamirTestVault _vault = new();
    private readonly byte[] _wrappedMaterial = RandomNumberGenerator.GetBytes(32);
    private readonly string _derived = ShamirTestVault.Derived(1);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private ProxyServer _server = null!;
    private XksClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ProxyServer.StartAsync(b =>
        {
            b.CreateMissingKeys = false;
            b.ShamirKeyring = _vault.Keyring;
            Keys(b);
        });
        _client = new XksClient(_server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private void Keys(ProxyConfigBuilder builder, params (int Version, string Material)[] more) => builder
        .ClearKeys()
        .Key("orders", versions: [(1, _derived), .. more])
        .Key("legacy", versions: [(1, _vault.Wrapped("legacy", 1, _wrappedMaterial))]);

    private async Task<(HttpStatusCode Status, string Body)> UnsealAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri(_server.AdminAddress, "/admin/v1/unseal"), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<(HttpStatusCode Status, string Body)> ShareAsync(string shareText) =>
        UnsealAsync(new JsonObject { ["share"] = shareText }.ToJsonString());

    private async Task<string> SealStatusAsync() => await _http.GetStringAsync(new Uri(_server.AdminAddress, "/admin/v1/seal-status"));

    private async Task<HttpStatusCode> ReadyzAsync()
    {
        using var response = await _http.GetAsync(new Uri(_server.BaseAddress, "/readyz"));
        return response.StatusCode;
    }

    [Fact]
    public async Task Sealed_ReadyzIs503_HealthIsUnavailable_AndEveryKeyIsRefused()
    {
        var health = await _client.HealthAsync();
        var encrypt = await _client.EncryptAsync("orders", [1, 2, 3]);
        var legacy = await _client.EncryptAsync("legacy", [1, 2, 3]);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyzAsync());
        Assert.Equal("UNAVAILABLE", Assert.Single(_server.GetRequiredService<HealthMonitor>().Last!.Members).HealthStatus);
        Assert.Equal("InternalException", health.ErrorName);
        Assert.Equal("InvalidStateException", encrypt.ErrorName);
        Assert.Equal("InvalidStateException", legacy.ErrorName);
        Assert.Equal("""{"sealed":true,"threshold":3,"progress":0,"rootVersions":[1]}""", await SealStatusAsync());
        Assert.Contains(_server.Logs.Lines, l => l.Contains("[ShamirSealed]", StringComparison.Ordinal) && l.Contains("needs 3 of its 5 custodians' unseal shares", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unseal_KMinusOneShares_StaysSealed()
    {
        var first = await ShareAsync(_vault.ShareTexts[0]);
        var second = await ShareAsync(_vault.ShareTexts[2]);

        Assert.Equal((HttpStatusCode.OK, """{"sealed":true,"threshold":3,"progress":1,"rootVersions":[1]}"""), first);
        Assert.Equal((HttpStatusCode.OK, """{"sealed":true,"threshold":3,"progress":2,"rootVersions":[1]}"""), second);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyzAsync());
        Assert.Equal("InvalidStateException", (await _client.EncryptAsync("orders", [1])).ErrorName);
        Assert.Contains(_server.Logs.Lines, l => l.Contains("unseal share 2 of 3 accepted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unseal_MalformedShare_Is400WithItsProblem_AndIsNotCounted()
    {
        await ShareAsync(_vault.ShareTexts[0]);
        var altered = _vault.ShareTexts[1][..^1] + (_vault.ShareTexts[1][^1] == 'A' ? 'B' : 'A');

        var checksum = await ShareAsync(altered);
        var duplicate = await ShareAsync(_vault.ShareTexts[0]);
        var notJson = await UnsealAsync("share=" + _vault.ShareTexts[1]);

        Assert.Equal((HttpStatusCode.BadRequest, """{"error":"MalformedShare","message":"checksum mismatch: the share was mistyped or altered"}"""), checksum);
        Assert.Equal((HttpStatusCode.BadRequest, """{"error":"MalformedShare","message":"custodian x = 1 already gave a share: each custodian\u0027s share counts once"}"""), duplicate);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.Contains("\"error\":\"BadRequest\"", notJson.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(_vault.ShareTexts[1].Split('.')[4], notJson.Body, StringComparison.Ordinal);
        Assert.Contains("\"progress\":1", await SealStatusAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unseal_WrongShareSet_Is422_AndProgressIsReset()
    {
        var otherCeremony = new ShamirTestVault();
        await ShareAsync(_vault.ShareTexts[0]);
        await ShareAsync(_vault.ShareTexts[1]);

        var wrong = await ShareAsync(otherCeremony.ShareTexts[4]);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.Status);
        Assert.Equal("""{"error":"WrongShares","message":"the 3 shares do not reconstruct this Vault\u0027s unseal key; progress was reset: check that every custodian used this Vault\u0027s share"}""", wrong.Body);
        Assert.Equal("""{"sealed":true,"threshold":3,"progress":0,"rootVersions":[1]}""", await SealStatusAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyzAsync());
    }

    [Fact]
    public async Task Unseal_ThresholdOfShares_Unseals_ReadyzIs200_AndFormat4AndFormat2KeysServe()
    {
        await ShareAsync(_vault.ShareTexts[4]);
        await ShareAsync(_vault.ShareTexts[0]);

        var last = await ShareAsync(_vault.ShareTexts[2]);

        Assert.Equal((HttpStatusCode.OK, """{"sealed":false,"threshold":3,"progress":0,"rootVersions":[1]}"""), last);
        Assert.Equal(HttpStatusCode.OK, await ReadyzAsync());
        var health = await _client.HealthAsync();
        Assert.Equal("ACTIVE", health.Json!["ekmFleetDetails"]![0]!["healthStatus"]!.GetValue<string>());
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var encrypted = await _client.EncryptAsync("orders", plaintext);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Equal(plaintext, (await _client.DecryptAsync("orders", encrypted)).Bytes("plaintext"));
        var legacy = await _client.EncryptAsync("legacy", plaintext);
        Assert.Equal(plaintext, (await _client.DecryptAsync("legacy", legacy)).Bytes("plaintext"));
        Assert.Equal((HttpStatusCode.OK, """{"sealed":false}"""), await ShareAsync(_vault.ShareTexts[3]));
        Assert.Equal("""{"sealed":false,"threshold":3,"progress":0,"rootVersions":[1]}""", await SealStatusAsync());
        Assert.Contains(_server.Logs.Lines, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains("[ShamirUnsealed]", StringComparison.Ordinal));
        Assert.DoesNotContain(_server.Logs.Lines, l => _vault.ShareTexts.Any(t => l.Contains(t.Split('.')[4], StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Reload_KeyringWithANewRootWhileUnsealed_ServesAVersionDerivedFromIt_WithoutASecondUnseal()
    {
        foreach (var text in _vault.ShareTexts.Take(3))
        {
            await ShareAsync(text);
        }

        var before = await _client.EncryptAsync("orders", [1, 2, 3]);
        _vault.AddRoot();
        await _server.RewriteConfigAsync(b =>
        {
            b.ShamirKeyring = _vault.Keyring;
            Keys(b, (2, ShamirTestVault.Derived(2)));
        });

        await Eventually.HoldsAsync(
            async () => (await _client.EncryptAsync("orders", [1, 2, 3])).MetadataSummary?.Contains("version 2", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(10),
            "version 2, derived from root 2, encrypts");
        Assert.Equal([1, 2, 3], (await _client.DecryptAsync("orders", before)).Bytes("plaintext"));
        Assert.Equal("""{"sealed":false,"threshold":3,"progress":0,"rootVersions":[1,2]}""", await SealStatusAsync());
        Assert.Equal(HttpStatusCode.OK, await ReadyzAsync());
    }

    [Fact]
    public async Task AdminPort_IsBoundTo127001Only_AndServesNothingButTheUnsealApi()
    {
        var addresses = _server.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var adminPort = _server.AdminAddress.Port;
        using var notFound = await _http.GetAsync(new Uri(_server.AdminAddress, "/readyz"));
        using var wrongMethod = await _http.GetAsync(new Uri(_server.AdminAddress, "/admin/v1/unseal"));
        using var onXksPort = await _http.GetAsync(new Uri(_server.BaseAddress, "/admin/v1/seal-status"));

        Assert.Contains($"http://127.0.0.1:{adminPort}", addresses);
        Assert.Single(addresses, a => a.EndsWith($":{adminPort}", StringComparison.Ordinal));
        Assert.False(await CanConnectAsync(IPAddress.IPv6Loopback, adminPort), "[::1] must not reach the admin port");
        foreach (var address in LocalNonLoopbackAddresses())
        {
            Assert.False(await CanConnectAsync(address, adminPort), $"{address} must not reach the admin port");
        }

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Contains("\"error\":\"NotFound\"", await notFound.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, onXksPort.StatusCode);
        Assert.DoesNotContain("sealed", await onXksPort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static IEnumerable<IPAddress> LocalNonLoopbackAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => !IPAddress.IsLoopback(a) && a.AddressFamily is AddressFamily.InterNetwork);

    private static async Task<bool> CanConnectAsync(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
