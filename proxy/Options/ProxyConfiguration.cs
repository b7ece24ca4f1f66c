using System.Collections.Frozen;
using System.Text;
using System.Threading.RateLimiting;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Authentication;
using Xks.Proxy.Authorization;

namespace Xks.Proxy.Options;

/// <summary>An immutable, validated snapshot of everything one proxy replica serves. Swapped whole on reload.</summary>
public sealed class ProxyConfiguration
{
    private readonly FrozenDictionary<string, KeyStore>.AlternateLookup<ReadOnlySpan<char>> _byPrefix;

    public ProxyConfiguration(ProxyOptions options, string? sourcePath, Func<string, string> readSecretFile, string? source = null)
    {
        Options = options;
        SourcePath = sourcePath;
        Source = source ?? sourcePath ?? "(text)";
        Regions = options.Regions.ToFrozenSet(StringComparer.Ordinal);
        KeyStores = options.KeyStores.Select(s => new KeyStore(s, options.Limits, readSecretFile)).ToArray();
        _byPrefix = KeyStores.ToFrozenDictionary(s => s.UriPathPrefix, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        KeyIds = KeyStores.SelectMany(s => s.Keys.Keys).ToArray();
    }

    public ProxyOptions Options { get; }

    /// <summary>The config file watched for changes; null when the document came from elsewhere (a Secret).</summary>
    public string? SourcePath { get; }

    /// <summary>Where the document came from, for logs: the file path or <c>Secret ns/name</c>.</summary>
    public string Source { get; }

    /// <summary>The command line's overrides this document was loaded with; a reload of the file applies them again.</summary>
    public ConfigurationOverrides? Overrides { get; init; }

    /// <summary>Regions accepted in the SigV4 scope; empty accepts any.</summary>
    public FrozenSet<string> Regions { get; }

    public IReadOnlyList<KeyStore> KeyStores { get; }

    /// <summary>Every configured externalKeyId, across key stores.</summary>
    public IReadOnlyList<string> KeyIds { get; }

    public LimitsOptions Limits => Options.Limits;

    public bool TryGetKeyStore(ReadOnlySpan<char> uriPathPrefix, out KeyStore keyStore) =>
        _byPrefix.TryGetValue(uriPathPrefix, out keyStore!);

    public bool IsRegionAllowed(ReadOnlySpan<char> region)
    {
        if (Regions.Count == 0)
        {
            return true;
        }

        return Regions.GetAlternateLookup<ReadOnlySpan<char>>().Contains(region);
    }
}

/// <summary>One logical external key store: a path prefix, its SigV4 credentials and its keys.</summary>
public sealed class KeyStore
{
    private readonly FrozenDictionary<string, SigV4Credential>.AlternateLookup<ReadOnlySpan<char>> _credentials;
    private readonly FrozenDictionary<string, XksKey>.AlternateLookup<ReadOnlySpan<char>> _keys;

    public KeyStore(KeyStoreOptions options, LimitsOptions limits, Func<string, string> readSecretFile)
    {
        Name = options.Name;
        UriPathPrefix = options.UriPathPrefix ?? "";
        Blocked = options.Blocked;
        Credentials = options.Credentials
            .Select(c => new SigV4Credential(c.AccessKeyId, c.SecretAccessKey ?? readSecretFile(c.SecretAccessKeyFile!)))
            .ToFrozenDictionary(c => c.AccessKeyId, StringComparer.Ordinal);
        Keys = options.Keys.Select(k => new XksKey(k)).ToFrozenDictionary(k => k.Id, StringComparer.Ordinal);
        _credentials = Credentials.GetAlternateLookup<ReadOnlySpan<char>>();
        _keys = Keys.GetAlternateLookup<ReadOnlySpan<char>>();
        RateLimiter = limits.RequestsPerSecondPerKeyStore > 0
            ? new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.RequestsPerSecondPerKeyStore,
                TokensPerPeriod = limits.RequestsPerSecondPerKeyStore,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            })
            : null;
    }

    public string Name { get; }

    public string UriPathPrefix { get; }

    public bool Blocked { get; }

    public FrozenDictionary<string, SigV4Credential> Credentials { get; }

    public FrozenDictionary<string, XksKey> Keys { get; }

    /// <summary>Per-prefix request quota (the spec allows ThrottlingException per path prefix); null when unlimited.</summary>
    public RateLimiter? RateLimiter { get; }

    public bool TryGetCredential(ReadOnlySpan<char> accessKeyId, out SigV4Credential credential) =>
        _credentials.TryGetValue(accessKeyId, out credential!);

    public bool TryGetKey(ReadOnlySpan<char> keyId, out XksKey key) => _keys.TryGetValue(keyId, out key!);
}

/// <summary>A configured external key: its usage, its switch and its optional secondary authorization.</summary>
public sealed class XksKey
{
    public XksKey(KeyOptions options)
    {
        Id = options.Id;
        CanEncrypt = options.Usage.Contains("ENCRYPT", StringComparer.Ordinal);
        CanDecrypt = options.Usage.Contains("DECRYPT", StringComparer.Ordinal);
        Usage = [.. options.Usage];
        Enabled = options.Enabled;
        Authorization = options.Authorization is { } a ? new KeyAuthorization(a) : null;
    }

    public string Id { get; }

    public bool CanEncrypt { get; }

    public bool CanDecrypt { get; }

    /// <summary>As configured, in the spec's upper-case names.</summary>
    public string[] Usage { get; }

    public bool Enabled { get; }

    public KeyAuthorization? Authorization { get; }
}

/// <summary>A SigV4 credential (access key id and secret) with its derived signing keys cached per day and region.</summary>
public sealed class SigV4Credential
{
    public SigV4Credential(string accessKeyId, string secretAccessKey)
    {
        AccessKeyId = accessKeyId;
        SigningSeed = Encoding.ASCII.GetBytes("AWS4" + secretAccessKey);
        SigningKeys = new SigningKeyCache(SigningSeed);
    }

    public string AccessKeyId { get; }

    /// <summary>"AWS4" + secret, the HMAC key of the first derivation step. Never logged.</summary>
    internal byte[] SigningSeed { get; }

    internal SigningKeyCache SigningKeys { get; }

    public override string ToString() => $"SigV4Credential({AccessKeyId})";
}
