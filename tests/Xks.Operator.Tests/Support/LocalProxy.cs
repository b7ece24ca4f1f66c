using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using k8s;
using Xks.Operator.Resources;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// The proxy of a Vault run the way its Deployment runs it, as a local child process: every Secret volume of the
/// Deployment's pod (master key or PKCS#11 PIN, TLS pair) written into a temporary volume root at the paths the pod
/// mounts them, each emptyDir created, then
/// <c>xks-proxy serve --config-secret NS/VAULT-proxy-config --kubeconfig … --volume-root … --address 127.0.0.1
/// --port N --metrics-port 0</c>. It watches the config Secret like a pod does, so every key store, key and
/// credential the operator renders reaches it live. Ready once <c>/readyz</c> answers over HTTPS; every line it prints
/// is kept (secret-leak checks); killed on dispose.
/// </summary>
internal sealed class LocalProxy : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private LocalProxy(ChildProcess process, string volumeRoot, int port)
    {
        _process = process;
        VolumeRoot = volumeRoot;
        Port = port;
    }

    /// <summary>The folder standing in for the pod's file system (master key, TLS files, data directory).</summary>
    public string VolumeRoot { get; }

    /// <summary>The HTTPS port on 127.0.0.1 (the emulator's DNS override points the Vault hostname here).</summary>
    public int Port { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far (stdout and stderr in arrival order).</summary>
    public string Output => _process.Output;

    /// <summary>The command line flags that make a pod's config run locally (also what scripts/demo.sh passes).</summary>
    public static IReadOnlyList<string> ServeArguments(string @namespace, string vault, string kubeconfig, string volumeRoot, int port) =>
    [
        "serve", "--config-secret", $"{@namespace}/{vault}-proxy-config", "--kubeconfig", kubeconfig,
        "--volume-root", volumeRoot, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
        "--metrics-port", "0",
    ];

    /// <summary>
    /// Writes the Vault's Secrets into a new volume root, starts the proxy and waits until <c>/readyz</c> answers 200
    /// over TLS with a certificate that <paramref name="caFile"/> vouches for. <paramref name="port"/>: one picked
    /// beforehand with <see cref="TestPorts.GetFree"/> (e.g. for the KMS emulator's DNS override), else a free one
    /// (another one if it is taken meanwhile).
    /// </summary>
    /// <remarks><c>environment</c>: extra variables of the process (e.g. SOFTHSM2_CONF for a Vault on the PKCS#11 backend).</remarks>
    /// <remarks>
    /// <c>adminPort</c> (a Shamir Vault): the proxy's unseal API listens there, the proxy starts sealed, and the wait is
    /// for the unseal API instead of <c>/readyz</c>; <see cref="WaitReadyAsync(string, TimeSpan)"/> waits for readiness
    /// once custodians have unsealed it.
    /// </remarks>
    public static async Task<LocalProxy> StartAsync(IKubernetes client, string kubeconfig, string @namespace, string vault, string caFile, TimeSpan within, int? port = null, IReadOnlyDictionary<string, string>? environment = null, int? adminPort = null)
    {
        var volumeRoot = TemporaryDirectory.Create("xks-local-proxy");
        try
        {
            await WriteVolumesAsync(client, @namespace, vault, volumeRoot);
            return port is { } chosen ? await StartOnPortAsync(chosen) : await ChildProcess.StartWithPortRetryAsync(StartOnPortAsync);
        }
        catch
        {
            TemporaryDirectory.TryDelete(volumeRoot);
            throw;
        }

        async Task<LocalProxy> StartOnPortAsync(int chosen)
        {
            string[] admin = adminPort is { } unsealPort ? ["--admin-port", unsealPort.ToString(CultureInfo.InvariantCulture)] : [];
            var process = await ChildProcess.StartAsync(
                ProxyCommand.Options([.. ServeArguments(@namespace, vault, kubeconfig, volumeRoot, chosen), .. admin], volumeRoot, environment),
                started => adminPort is { } unsealPort ? WaitUnsealApiAsync(started, unsealPort, within) : WaitReadyAsync(started, chosen, caFile, within));
            return new LocalProxy(process, volumeRoot, chosen) { AdminPort = adminPort };
        }
    }

    /// <summary>
    /// What the kubelet would mount for the proxy container of the Vault's Deployment, under <paramref name="volumeRoot"/>:
    /// each Secret volume's items (or all its keys) as files at the mount path, each emptyDir as a directory.
    /// </summary>
    public static async Task WriteVolumesAsync(IKubernetes client, string @namespace, string vault, string volumeRoot)
    {
        var pod = (await client.AppsV1.ReadNamespacedDeploymentAsync($"{vault}-proxy", @namespace)).Spec.Template.Spec;
        var container = pod.Containers.Single(c => c.Name == ProxyLayout.ContainerName);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var volume = pod.Volumes.Single(v => v.Name == mount.Name);
            if (volume.Secret is { } source)
            {
                var secret = await client.CoreV1.ReadNamespacedSecretAsync(source.SecretName, @namespace);
                var items = source.Items is { Count: > 0 } listed
                    ? listed.Select(i => (i.Key, i.Path))
                    : secret.Data.Keys.Select(k => (Key: k, Path: k));
                foreach (var (key, path) in items)
                {
                    Assert.True(secret.Data.ContainsKey(key), $"Secret {source.SecretName} has no key '{key}' that the Deployment mounts at {mount.MountPath}/{path}");
                    WriteFile(volumeRoot, mount.MountPath + "/" + path, secret.Data[key]);
                }
            }
            else
            {
                Directory.CreateDirectory(Under(volumeRoot, mount.MountPath));
            }
        }
    }

    /// <summary>The unseal API's port (a Shamir Vault's proxy), else null.</summary>
    public int? AdminPort { get; private init; }

    /// <summary>Waits until <c>/readyz</c> answers 200 (after an unseal).</summary>
    public Task WaitReadyAsync(string caFile, TimeSpan within) => WaitReadyAsync(_process, Port, caFile, within);

    private static async Task WaitUnsealApiAsync(ChildProcess process, int adminPort, TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await process.WaitForHttpAsync(http, new Uri($"http://127.0.0.1:{adminPort}/admin/v1/seal-status"), within);
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        TemporaryDirectory.TryDelete(VolumeRoot);
    }

    private static async Task WaitReadyAsync(ChildProcess process, int port, string caFile, TimeSpan within)
    {
        using var handler = new SocketsHttpHandler();
        using var trusted = X509CertificateLoader.LoadCertificateFromFile(caFile);
        // The certificate names the Vault hostname and 127.0.0.1; only the test CA is trusted.
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            CustomTrustStore = { trusted },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        await process.WaitForHttpAsync(http, new Uri($"https://127.0.0.1:{port}{ProxyLayout.ReadinessPath}"), within);
    }

    private static string Under(string root, string absolutePath) => Path.Combine(root, absolutePath.TrimStart('/'));

    private static void WriteFile(string root, string absolutePath, byte[] content)
    {
        var path = Under(root, absolutePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
