using Amazon.KeyManagementService;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.SecurityToken;
using Xks.Operator.Api;
using k8s.Models;
using Xks.Operator.Controllers;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Aws;

/// <summary>
/// Turns a CspAccount into an <see cref="AwsSession"/> (singleton; shared by every reconciler that calls AWS).
/// <list type="bullet">
/// <item>Credentials: source Secret — access key id, secret access key and optional session token from the Secret
/// named by <c>spec.credentials.secretRef</c> (its resourceVersion from the metadata-only cache of users' Secrets,
/// <see cref="UserSecrets"/>; its data read with a GET only when that version is new); source Default — the SDK's
/// default chain (environment, IRSA web identity, EKS Pod Identity / container credentials, instance profile).</item>
/// <item><c>spec.assumeRole</c>: sts:AssumeRole with those credentials (external id, session name default
/// <c>xks-operator</c>), renewed before expiry.</item>
/// <item>Region: the argument, else <c>spec.region</c>. <c>spec.endpoint</c> becomes the ServiceURL of KMS and STS
/// (and the IAM endpoint of access-key rotation, <see cref="IamEndpoint"/>).</item>
/// <item>Long-term keys (no session token) also give the session <see cref="AwsSession.KeyClients"/>: IAM and STS
/// signed with given keys, for <c>spec.credentials.accessKeyRotation</c>.</item>
/// </list>
/// Sessions are cached per (CspAccount uid, generation, Secret resourceVersion, region): a spec or Secret change
/// gives a new session, and the one it replaces is disposed after <see cref="AwsClientOptions.RetiredSessionGrace"/>.
/// Problems with the account itself throw <see cref="AwsAccountException"/> (reasons InvalidSpec,
/// CredentialsSecretNotFound, CredentialsSecretInvalid, InvalidCredentials), with messages that name the Secret and
/// the key but never a value.
/// </summary>
public sealed partial class AwsClients : IDisposable
{
    /// <summary>Role session name when <c>spec.assumeRole.sessionName</c> is unset.</summary>
    public const string DefaultRoleSessionName = "xks-operator";

    private readonly Func<string, string, CancellationToken, Task<V1Secret?>> _readSecret;
    private readonly Func<string, string, CancellationToken, Task<string?>>? _secretVersion;
    private readonly AwsMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly AwsRateLimiters _limiters;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Account, string Region), AwsSession> _sessions = [];
    private readonly HttpClient _iamHttp;
    private readonly Lazy<DefaultAWSCredentialsIdentityResolver> _defaultChain = new(() => new DefaultAWSCredentialsIdentityResolver());
    private bool _disposed;

    /// <summary>
    /// The production wiring: which version of a credentials Secret exists from the metadata-only cache of users'
    /// Secrets, its data with a GET; metrics on the runtime's registry.
    /// </summary>
    public AwsClients(InformerFactory informers, ControllerRuntimeMetrics metrics, OperatorOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
        : this(
            (ns, name, ct) => (informers ?? throw new ArgumentNullException(nameof(informers))).Client.ReadSecretOrNullAsync(ns, name, ct),
            new AwsClientOptions { Identity = (options ?? throw new ArgumentNullException(nameof(options))).AwsIdentity(), AccessKeySettle = options.AccessKeySettle },
            new AwsMetrics((metrics ?? throw new ArgumentNullException(nameof(metrics))).Registry),
            timeProvider,
            loggerFactory,
            VersionFromInformer(UserSecrets.Informer(informers)))
    {
    }

    /// <summary>
    /// <paramref name="readSecret"/>: (namespace, name) → the Secret, or null when it does not exist.
    /// <paramref name="secretVersion"/>: (namespace, name) → its resourceVersion from a cache, or null when it does not
    /// exist; a session whose Secret version is current is reused without reading the Secret. Without it every call
    /// reads the Secret.
    /// </summary>
    internal AwsClients(
        Func<string, string, CancellationToken, Task<V1Secret?>> readSecret,
        AwsClientOptions options,
        AwsMetrics metrics,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        Func<string, string, CancellationToken, Task<string?>>? secretVersion = null)
    {
        _readSecret = readSecret ?? throw new ArgumentNullException(nameof(readSecret));
        _secretVersion = secretVersion;
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        _logger = loggerFactory.CreateLogger<AwsClients>();
        _limiters = new AwsRateLimiters(options);
        _iamHttp = new HttpClient(new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = options.Timeout };
    }

    public AwsClientOptions Options { get; }

    /// <summary>
    /// The session of <paramref name="account"/> in <paramref name="region"/> (null or empty: <c>spec.region</c>),
    /// cached while the account's spec and Secret stay the same. Throws <see cref="AwsAccountException"/> when the
    /// spec is invalid or the credentials cannot be read; AWS itself is not called here (a wrong key shows on the
    /// first call).
    /// </summary>
    public Task<AwsSession> ForAccountAsync(V1Alpha1CspAccount account, string? region, CancellationToken cancellationToken) =>
        ForAccountAsync(AwsAccount.Of(account), region, cancellationToken);

    /// <summary>The session of a CspAccount or ClusterCspAccount (<see cref="ForAccountAsync(V1Alpha1CspAccount, string?, CancellationToken)"/>).</summary>
    public async Task<AwsSession> ForAccountAsync(AwsAccount account, string? region, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var problems = CspAccountSpecValidator.Validate(account.Spec);
        if (problems.Count > 0)
        {
            throw new AwsAccountException(Reasons.InvalidSpec, $"{account.Description}: {string.Join("; ", problems)}");
        }

        // Before any credential is read or any call made: what the operator's flags do not allow is refused outright.
        var refusals = Options.Identity.Refusals(account);
        if (refusals.Count > 0)
        {
            throw new AwsAccountException(Reasons.IdentityNotAllowed, $"{account.Description}: {string.Join("; ", refusals)}");
        }

        var spec = account.Spec;
        region = string.IsNullOrEmpty(region) ? spec.Region : region;
        var ns = account.SecretNamespace;
        var identity = account.Identity;

        AwsSecretKeys? keys = null;
        var secretVersion = "";
        if (spec.Credentials.Source == V1Alpha1CredentialsSource.Secret)
        {
            var reference = spec.Credentials.SecretRef!;
            if (_secretVersion is not null)
            {
                // The cache says which version exists; a session made from that version needs no read at all.
                var cachedVersion = await _secretVersion(ns, reference.Name, cancellationToken).ConfigureAwait(false)
                    ?? throw new AwsAccountException(Reasons.CredentialsSecretNotFound, $"Secret {ns}/{reference.Name} (spec.credentials.secretRef) does not exist");
                lock (_lock)
                {
                    if (_sessions.TryGetValue((identity, region), out var current) && current.Key == new AwsSessionKey(identity, account.Generation, cachedVersion, region))
                    {
                        return current;
                    }
                }
            }

            var secret = await _readSecret(ns, reference.Name, cancellationToken).ConfigureAwait(false)
                ?? throw new AwsAccountException(Reasons.CredentialsSecretNotFound, $"Secret {ns}/{reference.Name} (spec.credentials.secretRef) does not exist");
            if (!AwsCredentialsSecret.TryRead(secret, reference, out keys, out var problem))
            {
                throw new AwsAccountException(Reasons.CredentialsSecretInvalid, problem!);
            }

            secretVersion = secret.Metadata.ResourceVersion ?? "";
        }

        var key = new AwsSessionKey(identity, account.Generation, secretVersion, region);
        lock (_lock)
        {
            if (_sessions.TryGetValue((identity, region), out var cached) && cached.Key == key)
            {
                return cached;
            }
        }

        var session = await CreateSessionAsync(account, key, keys, cancellationToken).ConfigureAwait(false);
        AwsSession? retired;
        lock (_lock)
        {
            if (_sessions.TryGetValue((identity, region), out var raced) && raced.Key == key)
            {
                session.Dispose();
                return raced;
            }

            _sessions.Remove((identity, region), out retired);
            _sessions[(identity, region)] = session;
        }

        Log.SessionCreated(_logger, account.Description, region, spec.Endpoint ?? "public endpoint", spec.Credentials.Source.ToString(), spec.AssumeRole?.RoleArn ?? "none");
        if (retired is not null)
        {
            _ = RetireAsync(retired);
        }

        return session;
    }

    private async Task<AwsSession> CreateSessionAsync(AwsAccount account, AwsSessionKey key, AwsSecretKeys? keys, CancellationToken cancellationToken)
    {
        var spec = account.Spec;
        var stsConfig = AwsClientConfigs.Sts(key.Region, spec.Endpoint, Options);
        AWSCredentials source;
        if (keys is not null)
        {
            source = keys.SessionToken is { Length: > 0 } token
                ? new SessionAWSCredentials(keys.AccessKeyId, keys.SecretAccessKey, token)
                : new BasicAWSCredentials(keys.AccessKeyId, keys.SecretAccessKey);
        }
        else
        {
            source = await DefaultChainAsync(stsConfig, cancellationToken).ConfigureAwait(false);
        }

        var owned = new List<IDisposable>();
        var credentials = source;
        if (spec.AssumeRole is { } role)
        {
            var assumer = new AmazonSecurityTokenServiceClient(source, AwsClientConfigs.Sts(key.Region, spec.Endpoint, Options));
            var assumed = new AssumeRoleCredentials(assumer, role.RoleArn, string.IsNullOrEmpty(role.SessionName) ? DefaultRoleSessionName : role.SessionName, account.ExternalId, Options);
            owned.Add(assumed);
            credentials = assumed;
        }

        var kms = new AmazonKeyManagementServiceClient(credentials, AwsClientConfigs.Kms(key.Region, spec.Endpoint, Options));
        var sts = new AmazonSecurityTokenServiceClient(credentials, stsConfig);
        return new AwsSession(key, kms, sts, _limiters.For(key.Account, key.Region), _metrics, _timeProvider, _loggerFactory.CreateLogger<AwsSession>(), [.. owned])
        {
            // Long-term keys only: IAM cannot be called to rotate temporary credentials.
            KeyClients = keys is { SessionToken: null or "" } ? new AwsKeyClients(_iamHttp, key.Region, spec.Endpoint, Options) : null,
        };
    }

    private async Task<AWSCredentials> DefaultChainAsync(IClientConfig config, CancellationToken cancellationToken)
    {
        try
        {
            return await _defaultChain.Value.ResolveIdentityAsync(config, cancellationToken).ConfigureAwait(false)
                ?? throw new AmazonClientException("no credentials found");
        }
        catch (AmazonClientException ex)
        {
            throw new AwsAccountException(
                Reasons.InvalidCredentials,
                $"credentials.source Default: the AWS SDK's default chain (environment, web identity/IRSA, EKS Pod Identity, instance profile) found no credentials: {AwsErrors.Scrub(ex.Message)}",
                ex);
        }
    }

    private async Task RetireAsync(AwsSession session)
    {
        try
        {
            if (Options.RetiredSessionGrace > TimeSpan.Zero)
            {
                await Task.Delay(Options.RetiredSessionGrace, _timeProvider).ConfigureAwait(false);
            }
        }
        finally
        {
            session.Dispose();
            Log.SessionRetired(_logger, session.Key.Region);
        }
    }

    /// <summary>The Secret <paramref name="name"/> in <paramref name="ns"/> as the API server has it now (a GET), or null.</summary>
    internal Task<V1Secret?> ReadSecretAsync(string ns, string name, CancellationToken cancellationToken) => _readSecret(ns, name, cancellationToken);

    /// <summary>Reads Secrets from the shared informer's cache, once it has synced.</summary>
    internal static Func<string, string, CancellationToken, Task<string?>> VersionFromInformer(ResourceInformer<V1Secret> informer)
    {
        ArgumentNullException.ThrowIfNull(informer);
        return async (ns, name, cancellationToken) =>
        {
            await informer.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            return informer.TryGet(new ResourceKey(ns, name), out var secret) ? secret.Metadata.ResourceVersion ?? "" : null;
        };
    }

    public void Dispose()
    {
        List<AwsSession> sessions;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sessions = [.. _sessions.Values];
            _sessions.Clear();
        }

        foreach (var session in sessions)
        {
            session.Dispose();
        }

        _limiters.Dispose();
        _iamHttp.Dispose();
        if (_defaultChain.IsValueCreated)
        {
            _defaultChain.Value.Dispose();
        }
    }
}
