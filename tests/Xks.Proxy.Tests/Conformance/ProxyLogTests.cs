using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>
/// "Logs never leak": the proxy process at Trace level, audit lines on stdout, a full conformance run plus marker
/// requests — and then its complete stdout and stderr hold no plaintext, AAD, SigV4 secret or master key.
/// </summary>
public sealed partial class ProxyLogTests
{
    [Fact]
    public async Task ProxyOutput_AtTraceLevelAcrossAConformanceRun_HoldsNoPlaintextAadSecretOrMasterKey()
    {
        var directory = ProxyProcess.CreateDirectory();
        var environment = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Trace",
            ["Logging__LogLevel__Microsoft"] = "Trace",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace",
        };
        await using var proxy = await ProxyProcess.StartAsync(directory, port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data")), environment);

        var run = await ConformanceProxy.RunConformanceClientAsync(proxy);
        ConformanceClientTests.AssertPassedEveryCase(run, proxy);

        var marker = Guid.NewGuid().ToString("N");
        var plaintext = Encoding.UTF8.GetBytes("XKS-LEAK-CHECK-PLAINTEXT-" + marker);
        var aad = Encoding.UTF8.GetBytes("XKS-LEAK-CHECK-AAD-" + marker);
        var wrongAad = Encoding.UTF8.GetBytes("XKS-LEAK-CHECK-WRONG-AAD-" + marker);
        var refusedPlaintext = Encoding.UTF8.GetBytes("XKS-LEAK-CHECK-REFUSED-PLAINTEXT-" + marker);
        var requestId = "leak-check-" + marker;
        using (var client = new XksClient(proxy.BaseAddress)
        {
            Prefix = ConformanceProxy.Prefix,
            AccessKeyId = ConformanceProxy.AccessKeyId,
            Secret = ConformanceProxy.Secret,
        })
        {
            var encrypted = await client.EncryptAsync(ConformanceProxy.Key, plaintext, aad, metadata: XksClient.Metadata("Encrypt", requestId: requestId));
            Assert.Equal(HttpStatusCode.OK, encrypted.Status);
            var decrypted = await client.DecryptAsync(ConformanceProxy.Key, encrypted, aad);
            Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
            Assert.Equal("InvalidCiphertextException", (await client.DecryptAsync(ConformanceProxy.Key, encrypted, wrongAad)).ErrorName);
            Assert.Equal("InvalidKeyUsageException", (await client.EncryptAsync(ConformanceProxy.EncryptOnlyKey, refusedPlaintext, aad, cdiv: true)).ErrorName);
            Assert.Equal("InvalidStateException", (await client.EncryptAsync(ConformanceProxy.DisabledKey, refusedPlaintext, aad)).ErrorName);
            var malformed = new JsonObject
            {
                ["requestMetadata"] = XksClient.Metadata("Encrypt"),
                ["plaintext"] = Convert.ToBase64String(refusedPlaintext),
                ["additionalAuthenticatedData"] = Convert.ToBase64String(aad),
                ["encryptionAlgorithm"] = 5,
            };
            Assert.Equal("ValidationException", (await client.PostAsync($"keys/{ConformanceProxy.Key}/encrypt", malformed)).ErrorName);
            client.Secret = "WrongSecretWrongSecretWrongSecretWrongSecret12";
            Assert.Equal("AuthenticationFailedException", (await client.EncryptAsync(ConformanceProxy.Key, refusedPlaintext, aad)).ErrorName);
        }

        await proxy.StopAsync();
        var output = proxy.Output;
        var masterKey = await File.ReadAllBytesAsync(Path.Combine(proxy.DataDir, "master.key"));
        Assert.Equal(32, masterKey.Length);

        // The capture works: the audit line (stdout) of the marker request is there, and Trace/Debug logging is on.
        Assert.Contains(requestId, output, StringComparison.Ordinal);
        Assert.Matches(@"""LogLevel"":""(Debug|Trace)""", output);

        var searched = output + "\n" + JsonUnicodeEscape().Replace(output, m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());
        var secrets = new List<(string What, byte[] Bytes)>
        {
            ("marker plaintext", plaintext),
            ("marker AAD", aad),
            ("marker wrong AAD", wrongAad),
            ("refused marker plaintext", refusedPlaintext),
            ("spec example plaintext", "Hello World!"u8.ToArray()),
            ("spec example AAD", "project=nile,department=marketing"u8.ToArray()),
            ("conformance sample plaintext", "conformance sample plaintext"u8.ToArray()),
            ("conformance sample AAD", "conformance sample aad"u8.ToArray()),
            ("SigV4 secret", Encoding.ASCII.GetBytes(ConformanceProxy.Secret)),
            ("master key", masterKey),
        };
        var leaks = new List<string>();
        foreach (var (what, bytes) in secrets)
        {
            var forms = new Dictionary<string, string>
            {
                ["Base64"] = Convert.ToBase64String(bytes),
                ["hex"] = Convert.ToHexStringLower(bytes),
                ["HEX"] = Convert.ToHexString(bytes),
            };
            if (what != "master key")
            {
                forms["text"] = Encoding.UTF8.GetString(bytes);
            }

            leaks.AddRange(forms.Where(f => searched.Contains(f.Value, StringComparison.Ordinal)).Select(f => $"{what} as {f.Key} ({f.Value})"));
        }

        Assert.True(leaks.Count == 0, $"the proxy's output leaks: {string.Join("; ", leaks)}\n--- output ---\n{output}");
    }

    [GeneratedRegex(@"\\u([0-9A-Fa-f]{4})")]
    private static partial Regex JsonUnicodeEscape();
}
