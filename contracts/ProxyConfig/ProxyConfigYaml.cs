using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Xks.Contracts.ProxyConfig;

/// <summary>The result of parsing a config document: the normalised options, or the one reason it could not be read.</summary>
public sealed record ProxyConfigParseResult(ProxyOptions? Options, string? Problem)
{
    public bool Succeeded => Options is not null;
}

/// <summary>
/// The YAML form of <see cref="ProxyOptions"/>, both ways: the proxy parses its file or Secret with
/// <see cref="Parse"/>, the operator writes the Secret with <see cref="Render"/>. Keys are camelCase; a section or list
/// written as null reads as its default.
/// </summary>
public static class ProxyConfigYaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithQuotingNecessaryStrings()
        .WithTypeConverter(new TimestampConverter())
        .DisableAliases()
        .Build();

    /// <summary>Reads a document; the problem names the line and column of a syntax or type error, never a value.</summary>
    public static ProxyConfigParseResult Parse(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ProxyOptions? options;
        try
        {
            options = Deserializer.Deserialize<ProxyOptions>(yaml);
        }
        catch (YamlException ex)
        {
            var detail = ex.InnerException?.Message ?? ex.Message;
            return new ProxyConfigParseResult(null, $"config (line {ex.Start.Line}, column {ex.Start.Column}): {detail}");
        }

        if (options is null)
        {
            return new ProxyConfigParseResult(null, "config: the document is empty");
        }

        Normalize(options);
        return new ProxyConfigParseResult(options, null);
    }

    /// <summary>
    /// The document as YAML: properties in declaration order, nulls left out, timestamps in RFC 3339 UTC, LF line
    /// endings. The same options give the same bytes; lists keep their order (sorting sets is the writer's choice).
    /// </summary>
    /// <param name="options">The document.</param>
    /// <param name="headerComment">One line written first as a YAML comment, or null.</param>
    public static string Render(ProxyOptions options, string? headerComment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var header = headerComment is null ? "" : $"# {headerComment.ReplaceLineEndings(" ")}\n";
        return (header + Serializer.Serialize(options)).Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>RFC 3339 in UTC, whole seconds unless the time has a fraction: 2026-11-28T19:00:00Z.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    // YamlDotNet writes null for an empty list or section; treat those as their defaults.
    private static void Normalize(ProxyOptions options)
    {
        options.Regions ??= [];
        options.Server ??= new ServerOptions();
        options.Limits ??= new LimitsOptions();
        options.Health ??= new HealthOptions();
        options.Audit ??= new AuditOptions();
        options.KeyStores ??= [];
        options.Backend ??= new BackendOptions();
        if (options.Backend.Pkcs11 is { } pkcs11)
        {
            pkcs11.Tokens ??= [];
            pkcs11.SessionPool ??= new Pkcs11SessionPoolOptions();
            pkcs11.IvGeneration ??= nameof(Pkcs11IvGeneration.Proxy);
            pkcs11.HealthKeyLabel ??= "";
            pkcs11.Library ??= "";
        }

        if (options.Backend.Software?.Sealing is { } sealing)
        {
            sealing.Tokens ??= [];
            sealing.Library ??= "";
            sealing.RootLabelPrefix ??= "";
        }

        if (options.Backend.Software?.Shamir is { Keyring: { } keyring })
        {
            keyring.VaultId ??= "";
            keyring.UnsealKeyCheckValue ??= "";
            keyring.Roots ??= [];
            foreach (var root in keyring.Roots.Where(r => r is not null))
            {
                root.KeyCheckValue ??= "";
                root.Sealed ??= "";
            }
        }

        foreach (var store in options.KeyStores.Where(s => s is not null))
        {
            store.UriPathPrefix ??= "";
            store.Credentials ??= [];
            store.Keys ??= [];
            foreach (var key in store.Keys.Where(k => k is not null))
            {
                key.Usage ??= [];
                key.Versions ??= [];
                if (key.Authorization is { } auth)
                {
                    auth.Principals ??= [];
                    auth.ViaServices ??= [];
                    auth.SourceVpcs ??= [];
                    auth.SourceVpces ??= [];
                }
            }
        }

        if (options.Server.Tls?.ClientCertificate is { } mtls)
        {
            mtls.AllowedSubjects ??= [];
        }
    }

    /// <summary>Writes DateTimeOffset values as <see cref="Timestamp"/> (serialisation only; reading uses YamlDotNet's parser).</summary>
    private sealed class TimestampConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(DateTimeOffset) || type == typeof(DateTimeOffset?);

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer) =>
            throw new NotSupportedException("timestamps are read by the default deserializer");

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer)
        {
            ArgumentNullException.ThrowIfNull(emitter);
            emitter.Emit(new Scalar(value is DateTimeOffset time ? Timestamp(time) : ""));
        }
    }
}
