using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s;
using k8s.Models;
using Xks.KmsEmulator;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Emulator = Xks.KmsEmulator.KmsEmulator;

namespace Xks.Operator.Scenarios.Tests;

/// <summary>
/// The seed scenario's world on a laptop: the repository's samples (Vault xks, CspAccount production, KeySet payments,
/// CloudKey payments-db) applied with kubectl into one namespace, and patched only where a laptop differs from
/// production — the Vault exposed through a LoadBalancer with a test CA's certificate for xks.example.com, the
/// CspAccount pointed at the in-process KMS emulator (which serves STS AssumeRole for the sample's role). The test
/// acts as the kubelet, runs the Vault's proxy as a local process from its config Secret, and the emulator reaches
/// that proxy through a DNS override, over TLS, with SigV4 — as AWS KMS would. With a <see cref="SoftHsm"/> the Vault
/// is the PKCS#11 sample instead (config/samples/pkcs11: keys in a SoftHSM2 token initialised for this run, its PIN
/// in a Secret), and the operator and the proxy get the token directory through SOFTHSM2_CONF.
/// </summary>
internal sealed class SeedEnvironment : IAsyncDisposable
{
    public const string Region = "eu-west-1";
    public const string Hostname = "xks.example.com";
    public const string VaultName = "xks";
    public const string CspAccountName = "production";
    public const string KeySetName = "payments";
    public const string CloudKeyName = "payments-db";
    public const string Alias = "alias/payments/db";
    public const string TlsSecretName = "xks-tls";
    public const string CredentialSecretName = KeySetName + "-xks-credential";
    public const string KeyMaterialSecretName = CloudKeyName + "-key-material";
    public const string TokenLabel = "xks";
    public const string PinSecretName = "xks-hsm-pin";

    /// <summary>The four samples as kubectl names them.</summary>
    public static readonly (string Kind, string Resource)[] Samples =
    [
        ("Vault", "vault/" + VaultName), ("CspAccount", "cspaccount/" + CspAccountName),
        ("KeySet", "keyset/" + KeySetName), ("CloudKey", "cloudkey/" + CloudKeyName),
    ];

    private static readonly TimeSpan ProxyStartTimeout = TimeSpan.FromSeconds(60);
    private readonly Func<Task<OperatorProcess>> _startOperator;
    private readonly string _directory;

    private SeedEnvironment(LocalCluster cluster, string @namespace, Func<Task<OperatorProcess>> startOperator, string directory, TestCertificateAuthority ca, string caFile, Emulator emulator, int proxyPort, (string Id, string Secret) operatorCredential, (string Id, string Secret) applicationCredential, (string Id, string Secret) adminCredential, SoftHsm? hsm, string? pin)
    {
        Hsm = hsm;
        Pin = pin;
        (OperatorAccessKeyId, OperatorSecretAccessKey) = operatorCredential;
        (ApplicationAccessKeyId, ApplicationSecretAccessKey) = applicationCredential;
        Cluster = cluster;
        Ns = @namespace;
        _startOperator = startOperator;
        _directory = directory;
        Ca = ca;
        CaFile = caFile;
        Kms = emulator;
        ProxyPort = proxyPort;
        Admin = EnvelopeEncryption.CreateClient(emulator.Url, adminCredential.Id, adminCredential.Secret, Region);
        Application = EnvelopeEncryption.CreateClient(emulator.Url, ApplicationAccessKeyId, ApplicationSecretAccessKey, Region, maxErrorRetry: 0);
        Envelope = new EnvelopeEncryption(Application);
    }

    public LocalCluster Cluster { get; }

    /// <summary>The SoftHSM2 token directory of a PKCS#11 run (null: the software backend).</summary>
    public SoftHsm? Hsm { get; }

    /// <summary>The user PIN of the token <see cref="TokenLabel"/> (PKCS#11 run only).</summary>
    public string? Pin { get; }

    public IKubernetes Client => Cluster.Client;

    public string Ns { get; }

    public TestCertificateAuthority Ca { get; }

    /// <summary>The test CA's certificate (PEM), which the KMS emulator and curl trust.</summary>
    public string CaFile { get; }

    /// <summary>The KMS emulator (in-process).</summary>
    public Emulator Kms { get; }

    /// <summary>The emulator's options; <see cref="KmsEmulatorOptions.VpcEndpointServices"/> may change while it runs.</summary>
    public KmsEmulatorOptions KmsOptions { get; private init; } = null!;

    public int ProxyPort { get; }

    /// <summary>The operator process (null between a crash and the restart).</summary>
    public OperatorProcess? Operator { get; private set; }

    public LocalProxy? Proxy { get; private set; }

    /// <summary>The Vault uses the software backend with keyProtection HsmSealed (its root key in <see cref="Hsm"/>).</summary>
    public bool HsmSealed { get; private init; }

    /// <summary>The Vault uses the software backend with keyProtection Shamir (config/samples/shamir).</summary>
    public bool Shamir { get; private init; }

    /// <summary>Threshold and shares of the ceremony <see cref="InitShamirAsync"/> runs.</summary>
    public const int ShamirThreshold = 2;

    public const int ShamirShares = 3;

    /// <summary>The custodians' share texts, once <see cref="InitShamirAsync"/> ran.</summary>
    public IReadOnlyList<string> ShareTexts { get; private set; } = [];

    /// <summary>The Vault's master key as Base64 (for leak checks), once the proxy runs.</summary>
    public string? MasterKeyBase64 { get; private set; }

    /// <summary>
    /// A KMS client of a person with the console in the same account (its own credential, no identity policy): for looking
    /// at what the operator made and for changing it behind the operator's back. The operator's own credential is held to
    /// config/iam/recommended-inline-policy.json (<see cref="OperatorIdentityPolicy"/>).
    /// </summary>
    public AmazonKeyManagementServiceClient Admin { get; }

    /// <summary>A KMS client of "the application" (its own credential, no SDK retries: every failure counts).</summary>
    public AmazonKeyManagementServiceClient Application { get; }

    public EnvelopeEncryption Envelope { get; }

    public string OperatorAccessKeyId { get; }

    /// <summary>The role the CspAccount assumes (the identity behind every KMS call the operator makes), held to config/iam.</summary>
    public string OperatorArn { get; private init; } = "";

    /// <summary>Whether the operator made <paramref name="call"/>: a session of <see cref="OperatorArn"/>.</summary>
    public bool ByOperator(EmulatorCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.Caller?.Contains($":assumed-role/{OperatorArn[(OperatorArn.LastIndexOf('/') + 1)..]}/", StringComparison.Ordinal) == true;
    }

    public string OperatorSecretAccessKey { get; }

    public string ApplicationAccessKeyId { get; }

    public string ApplicationSecretAccessKey { get; }

    /// <summary>
    /// The emulator started, the aws-credentials and TLS Secrets created, the samples applied with kubectl and patched
    /// for the laptop. The operator is not started yet (<see cref="StartOperatorAsync"/>), so it never sees the
    /// production endpoints.
    /// </summary>
    /// <remarks>
    /// With <c>hsm</c>: the Vault on the PKCS#11 backend (or, with <c>hsmSealed</c>, the software backend with its root
    /// key in that token: config/samples/hsm-sealed), its token initialised here; without: software, plaintext root.
    /// <c>configureKms</c> adds to the emulator's options before it starts (credentials, identity policies).
    /// </remarks>
    public static async Task<SeedEnvironment> CreateAsync(LocalCluster cluster, string @namespace, Func<Task<OperatorProcess>> startOperator, SoftHsm? hsm = null, bool hsmSealed = false, bool shamir = false, Action<KmsEmulatorOptions>? configureKms = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "xks-seed-" + Guid.NewGuid().ToString("N"));
        var ca = TestCertificateAuthority.Create();
        var caFile = ca.Write(Path.Combine(directory, "ca"), "ca").CertificateFile;
        var proxyPort = TestPorts.GetFree();
        var options = new KmsEmulatorOptions { Region = Region, TrustedCaFile = caFile };
        options.HostOverrides[Hostname] = $"127.0.0.1:{proxyPort}";
        var operatorCredential = ("AKIA" + RandomToken(16), RandomToken(40)); // aws-credentials, for the CspAccount
        var applicationCredential = ("AKIA" + RandomToken(16), RandomToken(40));
        var adminCredential = ("AKIA" + RandomToken(16), RandomToken(40)); // a person with the console: unrestricted
        options.Credentials[operatorCredential.Item1] = operatorCredential.Item2;
        options.Credentials[applicationCredential.Item1] = applicationCredential.Item2;
        options.Credentials[adminCredential.Item1] = adminCredential.Item2;
        OperatorIdentityPolicy.Apply(options, operatorCredential.Item1); // the operator may do what config/iam allows, nothing more
        var operatorArn = OperatorIdentityPolicy.RoleArn(options);
        string? pin = null;
        if (hsm is not null)
        {
            pin = RandomToken(24);
            hsm.InitToken(TokenLabel, pin);
        }

        configureKms?.Invoke(options);
        var emulator = await Emulator.StartAsync(options);
        var seed = new SeedEnvironment(cluster, @namespace, startOperator, directory, ca, caFile, emulator, proxyPort, operatorCredential, applicationCredential, adminCredential, hsm, pin) { OperatorArn = operatorArn, HsmSealed = hsm is not null && hsmSealed, Shamir = hsm is null && shamir, KmsOptions = options };
        await seed.ApplySamplesAsync();
        return seed;
    }

    /// <summary>
    /// One envelope round trip through KMS and the proxy before a test measures anything: the tests' proxy is a Debug
    /// build that JITs its Encrypt and Decrypt paths on first use, which on a busy 2-core machine can miss KMS's 250 ms
    /// budget (the image is ReadyToRun). Only that timeout is retried, at most twice; any other failure is the test's.
    /// </summary>
    public async Task WarmUpAsync()
    {
        var context = new Dictionary<string, string> { ["purpose"] = "warm-up" };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await Envelope.DecryptAsync(await Envelope.EncryptAsync(Alias, new byte[] { 1, 2, 3 }, context));
                return;
            }
            catch (KMSInvalidStateException ex) when (attempt < 3 && ex.Message.Contains("did not respond within", StringComparison.Ordinal))
            {
            }
        }
    }

    /// <summary>Everything up and all four samples Ready (kubectl wait).</summary>
    public static async Task<SeedEnvironment> StartAsync(LocalCluster cluster, string @namespace, Func<Task<OperatorProcess>> startOperator, SoftHsm? hsm = null, bool hsmSealed = false, bool shamir = false, Action<KmsEmulatorOptions>? configureKms = null)
    {
        var seed = await CreateAsync(cluster, @namespace, startOperator, hsm, hsmSealed, shamir, configureKms);
        try
        {
            await seed.StartOperatorAsync();
            if (seed.Shamir)
            {
                await seed.InitShamirAsync();
            }

            await seed.RunProxyAsync();
            await seed.WaitReadyAsync();
            await seed.WarmUpAsync();
            return seed;
        }
        catch
        {
            await seed.DisposeAsync();
            throw;
        }
    }

    public async Task StartOperatorAsync() => Operator = await _startOperator();

    /// <summary>Stops the local proxy (a lost cluster serves nothing); <see cref="RunProxyAsync"/> starts a new one.</summary>
    public async Task StopProxyAsync()
    {
        if (Proxy is { } proxy)
        {
            await proxy.DisposeAsync();
            Proxy = null;
        }
    }

    /// <summary>A crash: the operator is SIGKILLed (no cleanup, nothing flushed).</summary>
    public async Task KillOperatorAsync()
    {
        if (Operator is { } op)
        {
            await op.KillAsync();
            await op.DisposeAsync();
            Operator = null;
        }
    }

    /// <summary>
    /// What the kubelet would do for the Vault's Deployment: mark its pods Ready (so the Vault turns Ready), and run the
    /// proxy from the Vault's Secrets — as a local process on <see cref="ProxyPort"/>.
    /// </summary>
    public async Task RunProxyAsync(bool unseal = true)
    {
        var timeout = TimeSpan.FromSeconds(90);
        await Eventually.HoldsAsync(
            async () => await ExistsAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync(VaultName + "-proxy", Ns))
                && (Hsm is not null || Shamir || await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync(VaultName + "-master-key", Ns)))
                && await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync(VaultName + "-proxy-config", Ns)),
            timeout, Hsm is null && !Shamir ? "the Vault's Deployment, master key and config Secret" : "the Vault's Deployment and config Secret");
        await Kubelet.MakeDeploymentAvailableAsync(Ns, VaultName + "-proxy", 2, timeout);
        if (Hsm is null && !Shamir)
        {
            MasterKeyBase64 = Convert.ToBase64String((await Client.CoreV1.ReadNamespacedSecretAsync(VaultName + "-master-key", Ns)).Data["master.key"]);
        }

        if (!Shamir)
        {
            Proxy = await LocalProxy.StartAsync(Client, Cluster.KubeconfigPath, Ns, VaultName, CaFile, ProxyStartTimeout, ProxyPort, Hsm?.Environment);
            return;
        }

        // A Shamir Vault's proxy starts sealed; the first ShamirThreshold custodians unseal it through its unseal API.
        Proxy = await LocalProxy.StartAsync(Client, Cluster.KubeconfigPath, Ns, VaultName, CaFile, ProxyStartTimeout, ProxyPort, adminPort: TestPorts.GetFree());
        if (unseal)
        {
            foreach (var share in ShareTexts.Take(ShamirThreshold))
            {
                var (status, body) = await UnsealAsync(share);
                Assert.True(status == 200, $"unseal answered {status}: {body}");
            }

            await Proxy.WaitReadyAsync(CaFile, ProxyStartTimeout);
        }
    }

    /// <summary>
    /// The custodians' ceremony, as they would run it: <c>xks-operator shamir init</c> with the test's kubeconfig, into a
    /// directory of this run; the share texts are kept in <see cref="ShareTexts"/>.
    /// </summary>
    public async Task InitShamirAsync()
    {
        var shares = Path.Combine(_directory, "shares");
        var (exitCode, output) = await OperatorCli.RunAsync("shamir", "init", "--namespace", Ns, "--vault", VaultName,
            "--threshold", ShamirThreshold.ToString(CultureInfo.InvariantCulture), "--shares", ShamirShares.ToString(CultureInfo.InvariantCulture), "--out-dir", shares);
        Assert.True(exitCode == 0, $"xks-operator shamir init exited {exitCode}: {output}");
        ShareTexts = [.. Directory.GetFiles(shares).Order(StringComparer.Ordinal).Select(f => File.ReadAllText(f).Trim())];
        Assert.Equal(ShamirShares, ShareTexts.Count);
    }

    /// <summary>One custodian's <c>POST /admin/v1/unseal</c> to the local proxy: the status code and the answer.</summary>
    public async Task<(int Status, string Body)> UnsealAsync(string share)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.PostAsync(
            new Uri($"http://127.0.0.1:{Proxy!.AdminPort}/admin/v1/unseal"),
            new StringContent(JsonSerializer.Serialize(new Dictionary<string, string> { ["share"] = share }), System.Text.Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// GenerateDataKey + Decrypt round trips through KMS and the proxy in a loop (64-byte objects, 20 ms apart) until
    /// <paramref name="stop"/>: how a test shows a change made under load fails no request.
    /// </summary>
    public async Task<(int Succeeded, List<string> Failures)> RoundTripsAsync(IReadOnlyDictionary<string, string> context, CancellationToken stop)
    {
        var succeeded = 0;
        var failures = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            var content = RandomNumberGenerator.GetBytes(64);
            try
            {
                var stored = await Envelope.EncryptAsync(Alias, content, context, CancellationToken.None);
                if (!(await Envelope.DecryptAsync(stored, CancellationToken.None)).AsSpan().SequenceEqual(content))
                {
                    failures.Add($"{DateTimeOffset.UtcNow:O} decrypted content differs");
                }
                else
                {
                    succeeded++;
                }
            }
            catch (AmazonKeyManagementServiceException ex)
            {
                failures.Add($"{DateTimeOffset.UtcNow:O} {ex.ErrorCode}: {ex.Message}");
            }

            await Task.Delay(20, CancellationToken.None);
        }

        return (succeeded, failures);
    }

    /// <summary><c>kubectl wait --for=condition=Ready</c> on the four samples.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null, params string[] resources)
    {
        var names = resources.Length > 0 ? resources : Samples.Select(s => s.Resource).ToArray();
        var seconds = (int)(timeout ?? TimeSpan.FromSeconds(120)).TotalSeconds;
        var wait = await Cluster.KubectlAsync($"wait --for=condition=Ready {string.Join(' ', names)} -n {Ns} --timeout={seconds}s");
        if (wait.ExitCode != 0)
        {
            var state = await Cluster.KubectlAsync($"get vault,cspaccount,keyset,cloudkey -n {Ns} -o custom-columns=KIND:.kind,NAME:.metadata.name,STATUS:.status");
            Assert.Fail($"not Ready within {seconds} s: {wait.Output}\n{state.StandardOutput}\n--- operator:\n{Tail(Operator?.Output)}\n--- proxy:\n{Tail(Proxy?.Output)}");
        }
    }

    /// <summary>The object as <c>kubectl get -o json</c> prints it.</summary>
    public async Task<JsonNode> GetAsync(string resource) =>
        JsonNode.Parse((await Cluster.KubectlAsync($"get {resource} -n {Ns} -o json")).EnsureSuccess($"kubectl get {resource}").StandardOutput)!;

    /// <summary>null when the object does not exist.</summary>
    public async Task<JsonNode?> TryGetAsync(string resource)
    {
        var result = await Cluster.KubectlAsync($"get {resource} -n {Ns} -o json --ignore-not-found");
        result.EnsureSuccess($"kubectl get {resource}");
        return string.IsNullOrWhiteSpace(result.StandardOutput) ? null : JsonNode.Parse(result.StandardOutput);
    }

    public async Task KubectlAsync(string arguments, string? stdin = null) =>
        (await Cluster.KubectlAsync($"{arguments} -n {Ns}", stdin)).EnsureSuccess("kubectl " + arguments);

    /// <summary>A merge patch of a sample's spec, as a user would do it (e.g. <c>{"enabled":false}</c>).</summary>
    public Task PatchSpecAsync(string resource, object spec) =>
        KubectlAsync($"patch {resource} --type merge -p {Quote(JsonSerializer.Serialize(new { spec }))}");

    /// <summary>A merge patch of an object's status through its status subresource, as anyone with <c>&lt;kind&gt;/status</c> patch can.</summary>
    public Task PatchStatusAsync(string resource, object status) =>
        KubectlAsync($"patch {resource} --subresource=status --type merge -p {Quote(JsonSerializer.Serialize(new { status }))}");

    public Task AnnotateAsync(string resource, string annotation, string value) =>
        KubectlAsync($"annotate {resource} --overwrite {annotation}={value}");

    /// <summary>The reason of an object's Ready condition, or null.</summary>
    public async Task<string?> ReadyReasonAsync(string resource) =>
        (await GetAsync(resource))["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.ToString() == "Ready")?["reason"]?.ToString();

    /// <summary>The message of an object's Ready condition, or null.</summary>
    public async Task<string?> ReadyMessageAsync(string resource) =>
        (await GetAsync(resource))["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.ToString() == "Ready")?["message"]?.ToString();

    /// <summary>status.&lt;field&gt; of an object, or null.</summary>
    public async Task<string?> StatusFieldAsync(string resource, string field) =>
        (await GetAsync(resource))["status"]?[field]?.ToString();

    public async Task<V1Secret?> TrySecretAsync(string name)
    {
        try
        {
            return await Client.CoreV1.ReadNamespacedSecretAsync(name, Ns);
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every KMS key id in the emulator (ListKeys, all pages).</summary>
    public async Task<List<string>> ListKeyIdsAsync()
    {
        var ids = new List<string>();
        string? marker = null;
        do
        {
            var page = await Admin.ListKeysAsync(new ListKeysRequest { Marker = marker });
            ids.AddRange((page.Keys ?? []).Select(k => k.KeyId));
            marker = page.Truncated == true ? page.NextMarker : null;
        }
        while (marker is not null);
        return ids;
    }

    /// <summary>The KMS keys whose tags carry <paramref name="uid"/> (the operator tags a key with its CloudKey's UID).</summary>
    public async Task<List<string>> KeysTaggedWithAsync(string uid)
    {
        var tagged = new List<string>();
        foreach (var id in await ListKeyIdsAsync())
        {
            var tags = await Admin.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = id });
            if ((tags.Tags ?? []).Any(t => t.TagValue == uid))
            {
                tagged.Add(id);
            }
        }

        return tagged;
    }

    /// <summary>
    /// A GetKeyMetadata call straight to the proxy, signed with the KeySet's current XKS credential (from its Secret),
    /// through the Vault hostname and the test CA — what KMS asks before using a key. Returns (HTTP status, body).
    /// </summary>
    public async Task<(int Status, string Body)> ProxyKeyMetadataAsync(string xksKeyId, string uriPathPrefix = "/payments")
    {
        var credential = await Client.CoreV1.ReadNamespacedSecretAsync(CredentialSecretName, Ns);
        var config = Path.Combine(_directory, "curl-" + Guid.NewGuid().ToString("N") + ".conf");
        await File.WriteAllTextAsync(config, $"user = \"{Text(credential.Data["accessKeyId"])}:{Text(credential.Data["secretAccessKey"])}\"\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            var body = $$$"""{"requestMetadata":{"kmsRequestId":"{{{Guid.NewGuid()}}}","kmsOperation":"DescribeKey","awsPrincipalArn":"arn:aws:iam::111122223333:role/payments-app"}}""";
            var url = $"https://{Hostname}:{ProxyPort}{uriPathPrefix}/kms/xks/v1/keys/{xksKeyId}/metadata";
            var result = await LocalCluster.RunAsync(
                "curl",
                $"-s -w \"\\n%{{http_code}}\" --aws-sigv4 aws:amz:{Region}:kms-xks-proxy -K {config} --cacert {CaFile} --resolve {Hostname}:{ProxyPort}:127.0.0.1 -H \"Content-Type: application/json\" -d {Quote(body)} {url}");
            result.EnsureSuccess("curl GetKeyMetadata");
            var lines = result.StandardOutput.TrimEnd().Split('\n');
            return (int.Parse(lines[^1], CultureInfo.InvariantCulture), string.Join('\n', lines[..^1]));
        }
        finally
        {
            File.Delete(config);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        if (Operator is not null)
        {
            await Operator.DisposeAsync();
        }

        Admin.Dispose();
        Application.Dispose();
        await Kms.DisposeAsync();
        Ca.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The last lines of a process's output, for failure messages.</summary>
    public static string Tail(string? output, int lines = 60) =>
        output is null ? "(not running)" : string.Join('\n', output.Split('\n').TakeLast(lines));

    private async Task ApplySamplesAsync()
    {
        // The CspAccount sample names this Secret; on a laptop it holds the emulator's credential.
        await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = "aws-credentials" },
                StringData = new Dictionary<string, string> { ["accessKeyId"] = OperatorAccessKeyId, ["secretAccessKey"] = OperatorSecretAccessKey },
            },
            Ns);
        await TlsSecret.CreateOrReplaceAsync(Client, Ns, TlsSecretName, Ca, Hostname);

        var samples = Path.Combine(LocalCluster.RepositoryRoot, "config", "samples");
        if (Hsm is null && Shamir)
        {
            // The Shamir Vault sample instead of the plaintext one.
            var others = string.Join(' ', new[] { "cspaccount", "keyset", "cloudkey" }.Select(kind => $"-f {Path.Combine(samples, $"xks.dev_v1alpha1_{kind}.yaml")}"));
            await KubectlAsync($"apply {others} -f {Path.Combine(samples, "shamir")}");
        }
        else if (Hsm is null)
        {
            await KubectlAsync($"apply -f {samples}");
        }
        else
        {
            // The PKCS#11 Vault sample (with its PIN Secret) instead of the software one; the PIN is this run's token's.
            var others = string.Join(' ', new[] { "cspaccount", "keyset", "cloudkey" }.Select(kind => $"-f {Path.Combine(samples, $"xks.dev_v1alpha1_{kind}.yaml")}"));
            await KubectlAsync($"apply {others} -f {Path.Combine(samples, HsmSealed ? "hsm-sealed" : "pkcs11")}");
            await Client.CoreV1.ReplaceNamespacedSecretAsync(
                new V1Secret { Metadata = new V1ObjectMeta { Name = PinSecretName }, StringData = new Dictionary<string, string> { ["pin"] = Pin! } },
                PinSecretName,
                Ns);
            var spec = (await GetAsync("vault/" + VaultName))["spec"]!;
            var sampleLibrary = (HsmSealed ? spec["keyProtection"]!["hsm"]! : spec["keyBackend"]!["pkcs11"]!)["library"]!.GetValue<string>();
            if (sampleLibrary != Hsm.LibraryPath)
            {
                await PatchSpecAsync("vault/" + VaultName, HsmSealed
                    ? new { keyProtection = new { hsm = new { library = Hsm.LibraryPath } } }
                    : new { keyBackend = new { pkcs11 = new { library = Hsm.LibraryPath } } });
            }
        }

        // What a laptop needs instead of production: no Ingress controller or cert-manager, no AWS.
        await PatchSpecAsync("vault/" + VaultName, new Dictionary<string, object?>
        {
            ["exposure"] = new Dictionary<string, object?> { ["type"] = "LoadBalancer", ["ingress"] = null },
            // The test CA is no public CA: privateCa trusts it through the Secret's ca.crt (the emulator trusts it too).
            ["tls"] = new Dictionary<string, object?> { ["issuerRef"] = null, ["secretName"] = TlsSecretName, ["privateCa"] = true },
        });
        await PatchSpecAsync("cspaccount/" + CspAccountName, new { endpoint = Kms.Url.ToString() });
    }

    /// <summary>
    /// The token's objects as <c>pkcs11-tool --list-objects</c> prints them (logged in: private objects too), one entry
    /// per object: its header line ("Secret Key Object; AES length 32") and its indented attributes by name.
    /// </summary>
    public IReadOnlyList<(string Header, IReadOnlyDictionary<string, string> Attributes)> ListTokenObjects()
    {
        var text = Hsm!.RunPkcs11Tool("--token-label", TokenLabel, "--login", "--pin", Pin!, "--list-objects");
        var objects = new List<(string, IReadOnlyDictionary<string, string>)>();
        string? header = null;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]))
            {
                if (header is not null)
                {
                    objects.Add((header, attributes));
                }

                header = line.Trim();
                attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            }
            else if (header is not null && line.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
            {
                attributes[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        if (header is not null)
        {
            objects.Add((header, attributes));
        }

        return objects;
    }

    private static async Task<bool> ExistsAsync<T>(Func<Task<T>> read)
    {
        try
        {
            await read();
            return true;
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    /// <summary>Single-quotes an argument for <see cref="LocalCluster.RunAsync"/> (ProcessStartInfo's argument parsing).</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string RandomToken(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", length);
}
