using System.Globalization;
using System.Text;
using Xks.Testing;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// A SoftHSM2 token of its own (in the test process's <see cref="SoftHsm.Shared"/> directory) and a private copy of
/// the library to load it with, so a proxy on it never shares a module instance with another test's.
/// </summary>
public sealed record Pkcs11TestToken(string Library, string Label, string Pin)
{
    /// <summary>A new token (and library copy) named after <paramref name="name"/>; a random PIN unless one is given.</summary>
    public static Pkcs11TestToken Create(string name, string? pin = null)
    {
        var hsm = SoftHsm.Shared;
        var label = $"{name}-{Guid.NewGuid().ToString("N")[..8]}";
        pin ??= "pin-" + Guid.NewGuid().ToString("N")[..10];
        hsm.InitToken(label, pin);
        return new Pkcs11TestToken(hsm.CopyLibrary(name), label, pin);
    }

    /// <summary>The environment a child-process proxy needs to see the token.</summary>
    public static IReadOnlyDictionary<string, string> Environment => SoftHsm.Shared.Environment;

    /// <summary>The lines of <c>backend.software.sealing</c> for this token (for <see cref="ProxyConfigBuilder.Sealing"/>).</summary>
    public string SealingYaml(string rootLabelPrefix, string? pinFile = null) =>
        $"rootLabelPrefix: {rootLabelPrefix}\nlibrary: {Library}\ntokens:\n  - label: {Label}\n" + (pinFile is null ? $"pin: \"{Pin}\"\n" : $"pinFile: {pinFile}\n");

    /// <summary>
    /// The <c>backend:</c> section (top level) for this token; <paramref name="extra"/> lines go under <c>pkcs11:</c>
    /// (e.g. "ivGeneration: HsmWritesIv"); <paramref name="pinFile"/> replaces the inline PIN.
    /// </summary>
    public string BackendYaml(bool createMissingKeys = true, string? extra = null, IEnumerable<Pkcs11TestToken>? moreTokens = null, string? pinFile = null)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"backend:\n  pkcs11:\n    library: {Library}\n    tokens:\n      - label: {Label}\n");
        foreach (var token in moreTokens ?? [])
        {
            sb.Append(CultureInfo.InvariantCulture, $"      - label: {token.Label}\n        library: {token.Library}\n");
        }

        sb.Append(pinFile is null ? $"    pin: \"{Pin}\"\n" : $"    pinFile: {pinFile}\n");
        sb.Append(CultureInfo.InvariantCulture, $"    createMissingKeys: {(createMissingKeys ? "true" : "false")}\n    recoveryIntervalSeconds: 1\n");
        foreach (var line in (extra ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append("    ").Append(line.TrimEnd()).Append('\n');
        }

        return sb.ToString();
    }
}
