using System.Collections.Concurrent;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Operator.Entities;

namespace Xks.Operator.Aws.Tests;

/// <summary>CspAccounts, credential Secrets and an <see cref="AwsClients"/> over an in-memory Secret store, for the AWS layer's tests.</summary>
internal sealed class AwsTestAccounts : IDisposable
{
    public const string Namespace = "team-a";

    /// <summary>Public example keys from the AWS documentation (not real).</summary>
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";

    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// <param name="options">The clients' options (default: retired sessions disposed at once).</param>
    /// <param name="versionCache">Give the clients the Secrets' resourceVersions as the operator's metadata-only cache does.</param>
    public AwsTestAccounts(AwsClientOptions? options = null, bool versionCache = false)
    {
        Metrics = new AwsMetrics(Prometheus.Metrics.NewCustomRegistry());
        Clients = new AwsClients(
            (ns, name, _) =>
            {
                Interlocked.Increment(ref _reads);
                return Task.FromResult(Secrets.TryGetValue((ns, name), out var secret) ? secret : null);
            },
            options ?? new AwsClientOptions { RetiredSessionGrace = TimeSpan.Zero },
            Metrics,
            TimeProvider.System,
            NullLoggerFactory.Instance,
            versionCache ? (ns, name, _) => Task.FromResult(Secrets.TryGetValue((ns, name), out var secret) ? secret.Metadata.ResourceVersion : null) : null);
    }

    private int _reads;

    /// <summary>How often the clients read a Secret's data.</summary>
    public int SecretReads => Volatile.Read(ref _reads);

    public ConcurrentDictionary<(string Namespace, string Name), V1Secret> Secrets { get; } = new();

    public AwsMetrics Metrics { get; }

    public AwsClients Clients { get; }

    public static V1Alpha1CspAccount Account(string name = "production", string? endpoint = null, string secretName = "aws-credentials", long generation = 1, string region = "eu-west-1") => new()
    {
        ApiVersion = "xks.dev/v1alpha1",
        Kind = "CspAccount",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, Uid = $"uid-{name}", Generation = generation, ResourceVersion = "1" },
        Spec = new V1Alpha1CspAccountSpec
        {
            Region = region,
            Endpoint = endpoint,
            Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Secret, SecretRef = new V1Alpha1AwsSecretReference { Name = secretName } },
        },
    };

    /// <summary>Stores (or replaces, with a new resourceVersion) a Secret with the given string values.</summary>
    public V1Secret PutSecret(string name = "aws-credentials", string? accessKeyId = AccessKeyId, string? secretAccessKey = SecretAccessKey, IDictionary<string, string>? extra = null)
    {
        var data = new Dictionary<string, byte[]>();
        if (accessKeyId is not null)
        {
            data["accessKeyId"] = Encoding.UTF8.GetBytes(accessKeyId);
        }

        if (secretAccessKey is not null)
        {
            data["secretAccessKey"] = Encoding.UTF8.GetBytes(secretAccessKey);
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }

        var version = Secrets.TryGetValue((Namespace, name), out var old) ? int.Parse(old.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, ResourceVersion = version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            Data = data,
        };
        Secrets[(Namespace, name)] = secret;
        return secret;
    }

    public void Dispose() => Clients.Dispose();
}
