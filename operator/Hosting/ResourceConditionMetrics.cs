using k8s;
using k8s.Models;
using Prometheus;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Hosting;

/// <summary>
/// The state of every xks.dev resource as Prometheus gauges, read from the shared informers' caches (what the API server
/// stores, on every replica, leader or standby), in the operator's registry (<c>/metrics</c>):
/// <list type="bullet">
/// <item><c>xks_resource_condition{kind,namespace,name,condition,status}</c>: for every condition of the status, 1 for
/// its current status and 0 for the two others of True, False and Unknown (external-secrets'
/// <c>externalsecret_status_condition</c>, with Unknown added);</item>
/// <item><c>xks_cloudkey_expiration_timestamp_seconds{namespace,name}</c>: spec.expiration.at;</item>
/// <item><c>xks_cloudkey_next_rotation_timestamp_seconds{namespace,name}</c>: status.nextRotationTime, when the
/// CloudKey's key material rotates on a schedule;</item>
/// <item><c>xks_keyset_credential_next_rotation_timestamp_seconds{namespace,name}</c>: status.lastRotationTime plus
/// spec.credentialRotation.every, when the KeySet's SigV4 credential rotates on a schedule;</item>
/// <item><c>xks_keyset_connection_state{namespace,name,state}</c>: 1 for the connection state of the custom key store
/// KMS reports (status.connectionState), 0 for the other states;</item>
/// <item><c>xks_vault_certificate_expiration_timestamp_seconds{namespace,name}</c>: status.certificate.notAfter, the
/// serving certificate a Vault's Secret holds;</item>
/// <item><c>xks_cspaccount_access_key_next_rotation_timestamp_seconds{namespace,name}</c>: status.accessKey.nextRotation,
/// when a CspAccount (or ClusterCspAccount) rotates its IAM access key on a schedule.</item>
/// </list>
/// Every series of a resource goes when the resource is deleted, and a series whose source field is gone goes with it.
/// ClusterCspAccounts have namespace "".
/// </summary>
public sealed class ResourceConditionMetrics
{
    private static readonly string[] Statuses = [ConditionStatus.True, ConditionStatus.False, ConditionStatus.Unknown];

    /// <summary>The connection states of a custom key store (KMS's ConnectionStateType).</summary>
    public static readonly IReadOnlyList<string> KeyStoreStates = ["CONNECTED", "CONNECTING", "DISCONNECTED", "DISCONNECTING", "FAILED"];

    private readonly Gauge _condition;
    private readonly Gauge _expiration;
    private readonly Gauge _nextKeyRotation;
    private readonly Gauge _nextCredentialRotation;
    private readonly Gauge _connectionState;
    private readonly Gauge _certificateExpiration;
    private readonly Gauge _nextAccessKeyRotation;
    private readonly Dictionary<(string Kind, string Namespace, string Name), Series> _tracked = [];
    private readonly Lock _lock = new();

    public ResourceConditionMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _condition = factory.CreateGauge("xks_resource_condition",
            "Conditions of the xks.dev resources: 1 for the current status of each condition, 0 for the other statuses.",
            new GaugeConfiguration { LabelNames = ["kind", "namespace", "name", "condition", "status"] });
        _expiration = factory.CreateGauge("xks_cloudkey_expiration_timestamp_seconds",
            "When the CloudKey expires (spec.expiration.at), in seconds since the Unix epoch.",
            new GaugeConfiguration { LabelNames = ["namespace", "name"] });
        _nextKeyRotation = factory.CreateGauge("xks_cloudkey_next_rotation_timestamp_seconds",
            "When the CloudKey's next key version is due (status.nextRotationTime: the current version's creation plus the rotation interval), in seconds since the Unix epoch.",
            new GaugeConfiguration { LabelNames = ["namespace", "name"] });
        _nextCredentialRotation = factory.CreateGauge("xks_keyset_credential_next_rotation_timestamp_seconds",
            "When the KeySet's SigV4 credential is due to rotate (status.lastRotationTime + spec.credentialRotation.every), in seconds since the Unix epoch.",
            new GaugeConfiguration { LabelNames = ["namespace", "name"] });
        _connectionState = factory.CreateGauge("xks_keyset_connection_state",
            "Connection state of the KeySet's custom key store as KMS reports it: 1 for the current state, 0 for the others.",
            new GaugeConfiguration { LabelNames = ["namespace", "name", "state"] });
        _certificateExpiration = factory.CreateGauge("xks_vault_certificate_expiration_timestamp_seconds",
            "When the Vault's serving certificate expires (status.certificate.notAfter), in seconds since the Unix epoch.",
            new GaugeConfiguration { LabelNames = ["namespace", "name"] });
        _nextAccessKeyRotation = factory.CreateGauge("xks_cspaccount_access_key_next_rotation_timestamp_seconds",
            "When the CspAccount's IAM access key is due to rotate (status.accessKey.nextRotation), in seconds since the Unix epoch; ClusterCspAccounts have namespace \"\".",
            new GaugeConfiguration { LabelNames = ["namespace", "name"] });
    }

    /// <summary>Follows every change of <paramref name="informer"/>'s cache from now on (subscribe before it lists).</summary>
    public IDisposable Track<T>(ResourceInformer<T> informer)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        return informer.Subscribe(change =>
        {
            if (change.Type == ResourceEventType.Deleted)
            {
                Forget(change.Object);
            }
            else
            {
                Observe(change.Object);
            }
        });
    }

    /// <summary>Sets the series of <paramref name="resource"/> from its current state, removing those it no longer has.</summary>
    public void Observe(IKubernetesObject<V1ObjectMeta> resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var key = KeyOf(resource);
        var next = new Series();
        lock (_lock)
        {
            foreach (var condition in StatusOf(resource)?.Conditions ?? [])
            {
                if (string.IsNullOrEmpty(condition.Type) || !next.Conditions.Add(condition.Type))
                {
                    continue;
                }

                var current = condition.Status ?? ConditionStatus.Unknown;
                foreach (var status in Statuses.Contains(current) ? Statuses : [.. Statuses, current])
                {
                    _condition.WithLabels(key.Kind, key.Namespace, key.Name, condition.Type, status).Set(status == current ? 1 : 0);
                }

                if (!Statuses.Contains(current))
                {
                    next.OddStatuses.Add((condition.Type, current));
                }
            }

            switch (resource)
            {
                case V1Alpha1Vault { Status.Certificate.NotAfter: { } notAfter }:
                    _certificateExpiration.WithLabels(key.Namespace, key.Name).Set(Seconds(notAfter));
                    next.CertificateExpiration = true;
                    break;
                case IStatus<V1Alpha1CspAccountStatus> { Status.AccessKey.NextRotation: { } nextRotation }:
                    _nextAccessKeyRotation.WithLabels(key.Namespace, key.Name).Set(Seconds(nextRotation));
                    next.NextAccessKeyRotation = true;
                    break;
                case V1Alpha1CloudKey cloudKey:
                    if (cloudKey.Spec.Expiration is { } expiration)
                    {
                        _expiration.WithLabels(key.Namespace, key.Name).Set(Seconds(expiration.At));
                        next.Expiration = true;
                    }

                    if (cloudKey.Status?.NextRotationTime is { } nextKeyRotation)
                    {
                        _nextKeyRotation.WithLabels(key.Namespace, key.Name).Set(Seconds(nextKeyRotation));
                        next.NextKeyRotation = true;
                    }

                    break;
                case V1Alpha1KeySet keySet:
                    if (keySet.Status?.LastRotationTime is { } last && GoDuration.TryParse(keySet.Spec.CredentialRotation?.Every, out var every))
                    {
                        _nextCredentialRotation.WithLabels(key.Namespace, key.Name).Set(Seconds(last) + every.TotalSeconds);
                        next.NextCredentialRotation = true;
                    }

                    if (keySet.Status?.ConnectionState is { Length: > 0 } state)
                    {
                        foreach (var known in KeyStoreStates)
                        {
                            _connectionState.WithLabels(key.Namespace, key.Name, known).Set(known == state ? 1 : 0);
                        }

                        if (!KeyStoreStates.Contains(state))
                        {
                            _connectionState.WithLabels(key.Namespace, key.Name, state).Set(1);
                            next.OddState = state;
                        }

                        next.ConnectionState = true;
                    }

                    break;
            }

            if (_tracked.TryGetValue(key, out var before))
            {
                Remove(key, before, next);
            }

            _tracked[key] = next;
        }
    }

    /// <summary>Removes every series of <paramref name="resource"/> (it was deleted).</summary>
    public void Forget(IKubernetesObject<V1ObjectMeta> resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var key = KeyOf(resource);
        lock (_lock)
        {
            if (_tracked.Remove(key, out var before))
            {
                Remove(key, before, new Series());
            }
        }
    }

    /// <summary>Removes the series in <paramref name="before"/> that <paramref name="after"/> does not have.</summary>
    private void Remove((string Kind, string Namespace, string Name) key, Series before, Series after)
    {
        foreach (var type in before.Conditions.Where(t => !after.Conditions.Contains(t)))
        {
            foreach (var status in Statuses)
            {
                _condition.RemoveLabelled(key.Kind, key.Namespace, key.Name, type, status);
            }
        }

        foreach (var (type, status) in before.OddStatuses.Where(s => !after.OddStatuses.Contains(s)))
        {
            _condition.RemoveLabelled(key.Kind, key.Namespace, key.Name, type, status);
        }

        if (before.Expiration && !after.Expiration)
        {
            _expiration.RemoveLabelled(key.Namespace, key.Name);
        }

        if (before.NextKeyRotation && !after.NextKeyRotation)
        {
            _nextKeyRotation.RemoveLabelled(key.Namespace, key.Name);
        }

        if (before.NextCredentialRotation && !after.NextCredentialRotation)
        {
            _nextCredentialRotation.RemoveLabelled(key.Namespace, key.Name);
        }

        if (before.CertificateExpiration && !after.CertificateExpiration)
        {
            _certificateExpiration.RemoveLabelled(key.Namespace, key.Name);
        }

        if (before.NextAccessKeyRotation && !after.NextAccessKeyRotation)
        {
            _nextAccessKeyRotation.RemoveLabelled(key.Namespace, key.Name);
        }

        if (before.ConnectionState && !after.ConnectionState)
        {
            foreach (var known in KeyStoreStates)
            {
                _connectionState.RemoveLabelled(key.Namespace, key.Name, known);
            }
        }

        if (before.OddState is { } odd && odd != after.OddState)
        {
            _connectionState.RemoveLabelled(key.Namespace, key.Name, odd);
        }
    }

    private static (string Kind, string Namespace, string Name) KeyOf(IKubernetesObject<V1ObjectMeta> resource) =>
        (resource.Kind ?? resource.GetType().Name, resource.Metadata?.NamespaceProperty ?? "", resource.Metadata?.Name ?? "");

    private static V1Alpha1Status? StatusOf(IKubernetesObject<V1ObjectMeta> resource) => resource switch
    {
        IStatus<V1Alpha1VaultStatus> r => r.Status,
        IStatus<V1Alpha1CspAccountStatus> r => r.Status,
        IStatus<V1Alpha1KeySetStatus> r => r.Status,
        IStatus<V1Alpha1CloudKeyStatus> r => r.Status,
        _ => null,
    };

    private static double Seconds(DateTime time) =>
        new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>The series one resource has (to remove exactly those).</summary>
    private sealed class Series
    {
        public HashSet<string> Conditions { get; } = new(StringComparer.Ordinal);

        public HashSet<(string Type, string Status)> OddStatuses { get; } = [];

        public bool Expiration { get; set; }

        public bool NextKeyRotation { get; set; }

        public bool NextCredentialRotation { get; set; }

        public bool ConnectionState { get; set; }

        public bool CertificateExpiration { get; set; }

        public bool NextAccessKeyRotation { get; set; }

        public string? OddState { get; set; }
    }
}
