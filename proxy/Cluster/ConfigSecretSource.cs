using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Options;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Xks.Proxy.Cluster;

/// <summary>One version of the configuration Secret: the YAML under <c>proxy.yaml</c> (null when absent) and its hash.</summary>
public sealed record ConfigSecretDocument(string? Yaml, string? ResourceVersion, string Hash)
{
    public static ConfigSecretDocument From(V1Secret secret)
    {
        if (secret.Data is null || !secret.Data.TryGetValue(ConfigSecretReference.ConfigKey, out var bytes) || bytes is null)
        {
            return new ConfigSecretDocument(null, secret.Metadata?.ResourceVersion, "absent");
        }

        return new ConfigSecretDocument(Encoding.UTF8.GetString(bytes), secret.Metadata?.ResourceVersion, Convert.ToHexString(SHA256.HashData(bytes)));
    }

    /// <summary>
    /// Validates the document in cluster mode (relative paths against the working directory), with the command line's
    /// overrides applied.
    /// </summary>
    public ConfigurationLoadResult Load(ConfigSecretReference reference, ConfigurationOverrides? overrides = null) =>
        Yaml is null
            ? new ConfigurationLoadResult(null, [$"{reference.Description} has no key '{ConfigSecretReference.ConfigKey}'"])
            : ProxyConfigurationLoader.LoadText(Yaml, Environment.CurrentDirectory, sourcePath: null, ConfigurationMode.Cluster, reference.Description, overrides);
}

/// <summary>The first configuration of a replica in cluster mode, with the Secret version it came from.</summary>
public sealed record InitialClusterConfiguration(ProxyConfiguration Configuration, ConfigSecretDocument Document);

/// <summary>The process could not get a valid configuration from its Secret within the start-up timeout.</summary>
public sealed class ClusterStartException(string message, IReadOnlyList<string> problems) : Exception(message)
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Reads the configuration Secret and turns API failures into messages a Kubernetes user can act on.</summary>
public static partial class ConfigSecretSource
{
    /// <summary>
    /// Reads the Secret until it holds a valid document, retrying with jittered backoff; after
    /// <see cref="ClusterModeOptions.StartupTimeout"/> throws <see cref="ClusterStartException"/> with the last problems.
    /// </summary>
    public static async Task<InitialClusterConfiguration> WaitForFirstAsync(
        IKubernetes client,
        ClusterModeOptions options,
        ILogger logger,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var reference = options.Secret;
        var deadline = time.GetUtcNow() + options.StartupTimeout;
        for (var attempt = 1; ; attempt++)
        {
            var (initial, problems) = await TryLoadAsync(client, options, cancellationToken).ConfigureAwait(false);
            if (initial is not null)
            {
                Log.FirstConfiguration(logger, reference.Description, initial.Document.ResourceVersion ?? "?", initial.Configuration.KeyStores.Count, initial.Configuration.KeyIds.Count);
                return initial;
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                throw new ClusterStartException(
                    $"no valid configuration from {reference.Description} (key {ConfigSecretReference.ConfigKey}) within {options.StartupTimeout.TotalSeconds:0} s; last problem(s): {string.Join("; ", problems)}",
                    problems);
            }

            Log.WaitingForConfiguration(logger, reference.Description, problems.Count, string.Join("; ", problems), left.TotalSeconds);
            var delay = Backoff(attempt, options.RetryInitialDelay, options.RetryMaxDelay);
            await Task.Delay(delay < left ? delay : left, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(InitialClusterConfiguration? Initial, IReadOnlyList<string> Problems)> TryLoadAsync(
        IKubernetes client,
        ClusterModeOptions options,
        CancellationToken cancellationToken)
    {
        var reference = options.Secret;
        V1Secret secret;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.RequestTimeout);
            secret = await client.CoreV1.ReadNamespacedSecretAsync(reference.Name, reference.Namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsApiFailure(ex, cancellationToken))
        {
            return (null, [Describe(ex, reference, options.Kubernetes.Host)]);
        }

        var document = ConfigSecretDocument.From(secret);
        var loaded = document.Load(reference, options.Overrides);
        return loaded.Succeeded ? (new InitialClusterConfiguration(loaded.Configuration!, document), []) : (null, loaded.Problems);
    }

    /// <summary>Failures of a call to the API server that a retry may cure (everything but our own cancellation).</summary>
    public static bool IsApiFailure(Exception ex, CancellationToken stoppingToken) => ex switch
    {
        OperationCanceledException => !stoppingToken.IsCancellationRequested,
        HttpOperationException or KubernetesException or HttpRequestException or IOException or SocketException or JsonException => true,
        _ => false,
    };

    /// <summary>410 Gone: the resource version is too old; list again.</summary>
    public static bool IsGone(Exception ex) => ex switch
    {
        HttpOperationException h => h.Response?.StatusCode == HttpStatusCode.Gone,
        KubernetesException k => k.Status?.Code == (int)HttpStatusCode.Gone,
        _ => false,
    };

    /// <summary>One line for the log: what failed and what to do about it. Never the Secret's content.</summary>
    public static string Describe(Exception ex, ConfigSecretReference reference, string? host) => ex switch
    {
        HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound } =>
            $"{reference.Description} does not exist",
        HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden } h =>
            $"forbidden: the proxy's service account may not read {reference.Description} (it needs get, list and watch on secrets with resourceNames [{reference.Name}]): {StatusMessage(h.Response.Content)}",
        HttpOperationException { Response.StatusCode: HttpStatusCode.Unauthorized } =>
            $"the API server at {host} refused the proxy's credentials (401 Unauthorized)",
        HttpOperationException h =>
            $"the API server at {host} answered {(int?)h.Response?.StatusCode} {h.Response?.ReasonPhrase}: {StatusMessage(h.Response?.Content)}",
        KubernetesException k =>
            $"the watch of {reference.Description} failed: {k.Status?.Code} {k.Status?.Reason}: {k.Status?.Message ?? k.Message}",
        OperationCanceledException =>
            $"the API server at {host} did not answer in time",
        JsonException =>
            $"the API server at {host} sent an answer that is not valid JSON",
        _ => $"cannot reach the API server at {host}: {ex.Message}",
    };

    /// <summary>Exponential backoff (initial × 2^(attempt-1), capped) with equal jitter: half fixed, half random.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan initial, TimeSpan max)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 20);
        var ceiling = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    private static string StatusMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return "(no message)";
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 200 ? body[..200] : body;
    }

    private static partial class Log
    {
        [LoggerMessage(600, LogLevel.Information, "Configuration loaded from {Source} (resourceVersion {ResourceVersion}): {KeyStores} key store(s), {Keys} key(s)", EventName = "ClusterConfigLoaded")]
        public static partial void FirstConfiguration(ILogger logger, string source, string resourceVersion, int keyStores, int keys);

        [LoggerMessage(601, LogLevel.Warning, "Waiting for a valid configuration in {Source}; {Count} problem(s): {Problems}. Retrying for {SecondsLeft:0} more second(s)", EventName = "ClusterConfigWaiting")]
        public static partial void WaitingForConfiguration(ILogger logger, string source, int count, string problems, double secondsLeft);
    }
}
