using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;


namespace Xks.Proxy.Options.Tests;

/// <summary>Inline key versions (<c>keys[].versions</c>) as the loader reads and the validator checks them.</summary>
public sealed class KeyVersionsValidationTests
{
    private static readonly string Wrapped = WrappedKeyVersions.Wrap(RandomNumberGenerator.GetBytes(32), "k", 1);

    [Fact]
    public void LoadText_ContractShape_IsReadIntoKeyOptionsVersions()
    {
        var yaml = $$"""
            keyStores:
              - name: team-a-payments
                uriPathPrefix: /payments
                credentials: [{accessKeyId: {{TestCredentials.AccessKeyId}}, secretAccessKey: "{{TestCredentials.Secret}}"}]
                keys:
                  - id: team-a-payments-db-2f1c
                    usage: [ENCRYPT, DECRYPT]
                    enabled: true
                    versions:
                      - version: 1
                        wrappedMaterial: {{Wrapped}}
                        createdAt: 2026-11-28T19:00:00Z
            backend:
              software:
                dataDir: /tmp/unused
            """;

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var version = Assert.Single(result.Configuration!.Options.KeyStores[0].Keys[0].Versions);
        Assert.Equal(1, version.Version);
        Assert.Equal(Wrapped, version.WrappedMaterial);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 19, 0, 0, TimeSpan.Zero), version.CreatedAt);
        Assert.DoesNotContain(Wrapped, version.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void LoadText_KeyWithoutVersions_HasAnEmptyList()
    {
        var result = ProxyConfigurationLoader.LoadText(new ProxyConfigBuilder().Key("foo").Build(8080, "/tmp/d", "/tmp/a"), "/tmp");
        Assert.Empty(result.Configuration!.Options.KeyStores[0].Keys[0].Versions);
    }

    [Fact]
    public void LoadText_BadVersions_ListsEveryProblem_WithoutQuotingTheMaterial()
    {
        var sixtyOneBytes = Convert.ToBase64String(new byte[61]);
        var yaml = new ProxyConfigBuilder()
            .Key("a", versions: [(0, Wrapped), (2, Wrapped), (2, "not base64 at all!"), (3, ""), (4, sixtyOneBytes), (100_001, Wrapped)])
            .Build(8080, "/tmp/d", "/tmp/a");

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");

        Assert.False(result.Succeeded);
        Assert.Equal(
            [
                "keyStores[0].keys[0].versions[0].version: must be between 1 and 100000 (got 0)",
                "keyStores[0].keys[0].versions[2].version: 2 is also the version of keyStores[0].keys[0].versions[1]",
                "keyStores[0].keys[0].versions[2].wrappedMaterial: must be standard Base64 of a wrapped key: 73 bytes, 100 characters (format 2) or 60 bytes, 80 characters (format 1) (got 18 characters)",
                "keyStores[0].keys[0].versions[3].wrappedMaterial: required",
                "keyStores[0].keys[0].versions[4].wrappedMaterial: must be standard Base64 of a wrapped key: 73 bytes, 100 characters (format 2) or 60 bytes, 80 characters (format 1) (got 84 characters)",
                "keyStores[0].keys[0].versions[5].version: must be between 1 and 100000 (got 100001)",
            ],
            result.Problems);
        Assert.DoesNotContain(result.Problems, p => p.Contains(Wrapped, StringComparison.Ordinal) || p.Contains(sixtyOneBytes, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("format 1 (60 bytes)", true)]
    [InlineData("format 2 (73 bytes)", true)]
    [InlineData("73 bytes without the format-2 marker", false)]
    [InlineData("format 2 with master key version 0", false)]
    [InlineData("74 bytes (also 100 characters)", false)]
    public void LoadText_WrappedMaterial_AcceptsBothFormatsOnly(string shape, bool accepted)
    {
        var masterKey = RandomNumberGenerator.GetBytes(32);
        var format2 = WrappedKeyVersions.Wrap(masterKey, "a", 1);
        var wrapped = shape switch
        {
            "format 1 (60 bytes)" => WrappedKeyVersions.WrapFormat1(masterKey, "a", 1),
            "format 2 (73 bytes)" => format2,
            "73 bytes without the format-2 marker" => WrappedKeyVersions.Flip(format2, 0, 0x03),
            "format 2 with master key version 0" => WrappedKeyVersions.Flip(format2, 4),
            _ => Convert.ToBase64String([.. Convert.FromBase64String(format2), 0]),
        };
        var yaml = new ProxyConfigBuilder().Key("a", versions: [(1, wrapped)]).Build(8080, "/tmp/d", "/tmp/a");

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");

        Assert.Equal(accepted, result.Succeeded);
        if (!accepted)
        {
            Assert.StartsWith("keyStores[0].keys[0].versions[0].wrappedMaterial: must be standard Base64 of a wrapped key", Assert.Single(result.Problems), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LoadText_VersionsWithoutAnyBackend_IsAProblem()
    {
        var yaml = new ProxyConfigBuilder().Key("a", versions: [(1, Wrapped)]).Build(8080, "/tmp/d", "/tmp/a")
            .Replace("backend:\n  software:\n    dataDir: /tmp/d\n", "backend: {}\n", StringComparison.Ordinal);

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");

        Assert.Contains(result.Problems, p => p.StartsWith("backend: configure a key backend", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadText_SoftwareVersionWithoutWrappedMaterial_IsAProblem()
    {
        var yaml = new ProxyConfigBuilder().Key("a", versions: [(1, Wrapped)]).Build(8080, "/tmp/d", "/tmp/a")
            .Replace($"            wrappedMaterial: \"{Wrapped}\"\n", "", StringComparison.Ordinal);

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");

        Assert.Contains("keyStores[0].keys[0].versions[0].wrappedMaterial: required", result.Problems);
    }
}
