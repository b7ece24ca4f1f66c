using k8s.Models;
using Prometheus;
using Xks.Operator.Entities;
using Xks.Operator.Runtime.Informers;
using Xks.Operator.Runtime.Support.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Hosting.Tests;

public sealed class ResourceConditionMetricsTests
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly ResourceConditionMetrics _metrics;

    public ResourceConditionMetricsTests() => _metrics = new ResourceConditionMetrics(_registry);

    [Theory]
    [InlineData("True")]
    [InlineData("False")]
    [InlineData("Unknown")]
    public async Task Observe_ReadyCondition_CurrentStatusIsOneAndTheOthersZero(string status)
    {
        _metrics.Observe(Vault("team-a", "v1", (ConditionTypes.Ready, status), (ConditionTypes.ProxyAvailable, ConditionStatus.True)));

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        foreach (var s in new[] { "True", "False", "Unknown" })
        {
            Assert.Equal(s == status ? 1 : 0, scrape.Sample(Condition("Vault", "team-a", "v1", "Ready", s)));
        }

        Assert.Equal(1, scrape.Sample(Condition("Vault", "team-a", "v1", "ProxyAvailable", "True")));
        Assert.Equal(6, scrape.SeriesOf("xks_resource_condition").Count);
    }

    [Fact]
    public async Task Observe_StatusChanges_MovesTheOne()
    {
        _metrics.Observe(Vault("ns", "v", (ConditionTypes.Ready, ConditionStatus.False)));
        _metrics.Observe(Vault("ns", "v", (ConditionTypes.Ready, ConditionStatus.True)));

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Equal(1, scrape.Sample(Condition("Vault", "ns", "v", "Ready", "True")));
        Assert.Equal(0, scrape.Sample(Condition("Vault", "ns", "v", "Ready", "False")));
    }

    [Fact]
    public async Task Observe_ConditionLeftTheStatus_RemovesItsSeriesOnly()
    {
        _metrics.Observe(Vault("ns", "v", (ConditionTypes.Ready, ConditionStatus.True), (ConditionTypes.CertificateReady, ConditionStatus.True)));
        _metrics.Observe(Vault("ns", "v", (ConditionTypes.Ready, ConditionStatus.True)));

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Equal(3, scrape.SeriesOf("xks_resource_condition").Count);
        Assert.All(scrape.SeriesOf("xks_resource_condition"), s => Assert.Contains("condition=\"Ready\"", s, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Forget_DeletedResources_RemovesEveryTheirSeriesAndKeepsOthers()
    {
        var key = CloudKey("ns", "gone", ConditionStatus.True);
        key.Spec.Expiration = new V1Alpha1KeyExpiration { At = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc) };
        var keySet = KeySet("ns", "gone", "CONNECTED", lastRotation: new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), every: "24h");
        _metrics.Observe(key);
        _metrics.Observe(keySet);
        _metrics.Observe(CloudKey("ns", "stays", ConditionStatus.False));

        _metrics.Forget(key);
        _metrics.Forget(keySet);

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.All(scrape.SeriesOf("xks_resource_condition"), s => Assert.Contains("name=\"stays\"", s, StringComparison.Ordinal));
        Assert.Equal(3, scrape.SeriesOf("xks_resource_condition").Count);
        Assert.Empty(scrape.SeriesOf("xks_cloudkey_expiration_timestamp_seconds"));
        Assert.Empty(scrape.SeriesOf("xks_keyset_credential_next_rotation_timestamp_seconds"));
        Assert.Empty(scrape.SeriesOf("xks_keyset_connection_state"));
    }

    [Fact]
    public async Task Observe_CloudKeyExpiration_IsSpecExpirationAtAndGoesWhenUnset()
    {
        var at = new DateTime(2030, 6, 1, 12, 0, 0, DateTimeKind.Utc);
        var key = CloudKey("ns", "k", ConditionStatus.True);
        key.Spec.Expiration = new V1Alpha1KeyExpiration { At = at };
        _metrics.Observe(key);

        var series = "xks_cloudkey_expiration_timestamp_seconds{namespace=\"ns\",name=\"k\"}";
        Assert.Equal(new DateTimeOffset(at).ToUnixTimeSeconds(), (await PrometheusText.ScrapeAsync(_registry)).Sample(series));

        key.Spec.Expiration = null;
        _metrics.Observe(key);
        Assert.Null((await PrometheusText.ScrapeAsync(_registry)).Sample(series));
    }

    [Fact]
    public async Task Observe_CloudKeyNextRotation_IsStatusNextRotationTimeAndGoesWhenUnset()
    {
        var next = new DateTime(2027, 2, 1, 6, 30, 0, DateTimeKind.Utc);
        var key = CloudKey("ns", "k", ConditionStatus.True);
        key.Spec.Expiration = new V1Alpha1KeyExpiration { At = new DateTime(2030, 6, 1, 12, 0, 0, DateTimeKind.Utc) };
        key.Status.NextRotationTime = next;
        _metrics.Observe(key);

        var series = "xks_cloudkey_next_rotation_timestamp_seconds{namespace=\"ns\",name=\"k\"}";
        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Equal(new DateTimeOffset(next).ToUnixTimeSeconds(), scrape.Sample(series));
        Assert.NotNull(scrape.Sample("xks_cloudkey_expiration_timestamp_seconds{namespace=\"ns\",name=\"k\"}"));

        key.Status.NextRotationTime = null;
        _metrics.Observe(key);
        scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Null(scrape.Sample(series));
        Assert.NotNull(scrape.Sample("xks_cloudkey_expiration_timestamp_seconds{namespace=\"ns\",name=\"k\"}"));
    }

    [Theory]
    [InlineData("24h", 86400.0)]
    [InlineData("90m", 5400.0)]
    public async Task Observe_KeySetWithScheduledRotation_NextRotationIsLastRotationPlusEvery(string every, double seconds)
    {
        var last = new DateTime(2026, 3, 1, 8, 0, 0, DateTimeKind.Utc);
        _metrics.Observe(KeySet("ns", "ks", "CONNECTED", last, every));

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Equal(new DateTimeOffset(last).ToUnixTimeSeconds() + seconds, scrape.Sample("xks_keyset_credential_next_rotation_timestamp_seconds{namespace=\"ns\",name=\"ks\"}"));
    }

    [Fact]
    public async Task Observe_KeySetWithoutRotationSchedule_HasNoNextRotation()
    {
        _metrics.Observe(KeySet("ns", "ks", "CONNECTED", new DateTime(2026, 3, 1, 8, 0, 0, DateTimeKind.Utc), every: null));

        Assert.Empty((await PrometheusText.ScrapeAsync(_registry)).SeriesOf("xks_keyset_credential_next_rotation_timestamp_seconds"));
    }

    [Theory]
    [InlineData("CONNECTED")]
    [InlineData("FAILED")]
    [InlineData("DISCONNECTED")]
    public async Task Observe_KeySetConnectionState_OneForTheCurrentStateZeroForTheOthers(string state)
    {
        _metrics.Observe(KeySet("ns", "ks", state, lastRotation: null, every: null));

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Equal(ResourceConditionMetrics.KeyStoreStates.Count, scrape.SeriesOf("xks_keyset_connection_state").Count);
        foreach (var known in ResourceConditionMetrics.KeyStoreStates)
        {
            Assert.Equal(known == state ? 1 : 0, scrape.Sample($"xks_keyset_connection_state{{namespace=\"ns\",name=\"ks\",state=\"{known}\"}}"));
        }
    }

    [Fact]
    public async Task Observe_KeySetStateKmsMayAddLater_IsItsOwnSeriesAndGoesWhenItChanges()
    {
        _metrics.Observe(KeySet("ns", "ks", "SOMETHING_NEW", lastRotation: null, every: null));
        Assert.Equal(1, (await PrometheusText.ScrapeAsync(_registry)).Sample("xks_keyset_connection_state{namespace=\"ns\",name=\"ks\",state=\"SOMETHING_NEW\"}"));

        _metrics.Observe(KeySet("ns", "ks", "CONNECTED", lastRotation: null, every: null));

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Null(scrape.Sample("xks_keyset_connection_state{namespace=\"ns\",name=\"ks\",state=\"SOMETHING_NEW\"}"));
        Assert.Equal(1, scrape.Sample("xks_keyset_connection_state{namespace=\"ns\",name=\"ks\",state=\"CONNECTED\"}"));
    }

    [Fact]
    public async Task Observe_VaultCertificate_IsStatusCertificateNotAfterAndGoesWhenUnset()
    {
        var notAfter = new DateTime(2027, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var vault = Vault("ns", "xks");
        vault.Status.Certificate = new V1Alpha1VaultCertificateStatus { NotAfter = notAfter };
        _metrics.Observe(vault);

        var series = "xks_vault_certificate_expiration_timestamp_seconds{namespace=\"ns\",name=\"xks\"}";
        Assert.Equal(new DateTimeOffset(notAfter).ToUnixTimeSeconds(), (await PrometheusText.ScrapeAsync(_registry)).Sample(series));

        vault.Status.Certificate = null;
        _metrics.Observe(vault);
        Assert.Null((await PrometheusText.ScrapeAsync(_registry)).Sample(series));
    }

    [Fact]
    public async Task Observe_AccessKeyRotation_IsStatusAccessKeyNextRotationForBothAccountKinds()
    {
        var next = new DateTime(2027, 1, 15, 8, 0, 0, DateTimeKind.Utc);
        var account = new V1Alpha1CspAccount { Metadata = new V1ObjectMeta { Name = "production", NamespaceProperty = "ns" } };
        account.Status.AccessKey = new V1Alpha1AccessKeyStatus { Id = "AKIAEXAMPLE", NextRotation = next };
        var shared = new V1Alpha1ClusterCspAccount { Metadata = new V1ObjectMeta { Name = "shared" } };
        shared.Status.AccessKey = new V1Alpha1AccessKeyStatus { Id = "AKIAEXAMPLE2", NextRotation = next.AddDays(1) };
        _metrics.Observe(account);
        _metrics.Observe(shared);

        var scrape = await PrometheusText.ScrapeAsync(_registry);
        Assert.Equal(new DateTimeOffset(next).ToUnixTimeSeconds(), scrape.Sample("xks_cspaccount_access_key_next_rotation_timestamp_seconds{namespace=\"ns\",name=\"production\"}"));
        Assert.Equal(new DateTimeOffset(next.AddDays(1)).ToUnixTimeSeconds(), scrape.Sample("xks_cspaccount_access_key_next_rotation_timestamp_seconds{namespace=\"\",name=\"shared\"}"));

        account.Status.AccessKey = null;
        _metrics.Observe(account);
        Assert.Null((await PrometheusText.ScrapeAsync(_registry)).Sample("xks_cspaccount_access_key_next_rotation_timestamp_seconds{namespace=\"ns\",name=\"production\"}"));
    }

    [Fact]
    public async Task Observe_ClusterCspAccount_HasAnEmptyNamespace()
    {
        var account = new V1Alpha1ClusterCspAccount { Metadata = new V1ObjectMeta { Name = "shared" } };
        account.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Verified" });
        _metrics.Observe(account);

        Assert.Equal(1, (await PrometheusText.ScrapeAsync(_registry)).Sample(Condition("ClusterCspAccount", "", "shared", "Ready", "True")));
    }

    [Fact]
    public async Task Track_InformerEvents_AddChangeAndRemoveTheSeries()
    {
        var api = new InMemoryResourceApi<V1Alpha1CloudKey>();
        api.Create(CloudKey("ns", "listed", ConditionStatus.True));
        var informer = new ResourceInformer<V1Alpha1CloudKey>(api);
        using var subscription = _metrics.Track(informer);
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(stop.Token);

        var watched = api.Create(CloudKey("ns", "watched", ConditionStatus.False));
        await Eventually.HoldsAsync(async () => (await PrometheusText.ScrapeAsync(_registry)).Sample(Condition("CloudKey", "ns", "watched", "Ready", "False")) == 1, TimeSpan.FromSeconds(10), "the watched key's series");
        Assert.Equal(1, (await PrometheusText.ScrapeAsync(_registry)).Sample(Condition("CloudKey", "ns", "listed", "Ready", "True")));

        api.Delete(watched);
        await Eventually.HoldsAsync(async () => (await PrometheusText.ScrapeAsync(_registry)).SeriesOf("xks_resource_condition").Count == 3, TimeSpan.FromSeconds(10), "the deleted key's series gone");
        Assert.Null((await PrometheusText.ScrapeAsync(_registry)).Sample(Condition("CloudKey", "ns", "watched", "Ready", "False")));
        await stop.CancelAsync();
        await running;
    }

    private static string Condition(string kind, string ns, string name, string condition, string status) =>
        $"xks_resource_condition{{kind=\"{kind}\",namespace=\"{ns}\",name=\"{name}\",condition=\"{condition}\",status=\"{status}\"}}";

    private static V1Alpha1Vault Vault(string ns, string name, params (string Type, string Status)[] conditions)
    {
        var vault = new V1Alpha1Vault { Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name } };
        foreach (var (type, status) in conditions)
        {
            vault.Status.Conditions.Add(new V1Alpha1Condition { Type = type, Status = status, Reason = "Test" });
        }

        return vault;
    }

    private static V1Alpha1CloudKey CloudKey(string ns, string name, string ready)
    {
        var key = new V1Alpha1CloudKey { Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name } };
        key.Status.Conditions.Add(new V1Alpha1Condition { Type = ConditionTypes.Ready, Status = ready, Reason = "Test" });
        return key;
    }

    private static V1Alpha1KeySet KeySet(string ns, string name, string state, DateTime? lastRotation, string? every)
    {
        var keySet = new V1Alpha1KeySet { Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name } };
        keySet.Spec.CredentialRotation = every is null ? null : new V1Alpha1Rotation { Every = every };
        keySet.Status.ConnectionState = state;
        keySet.Status.LastRotationTime = lastRotation;
        return keySet;
    }
}
