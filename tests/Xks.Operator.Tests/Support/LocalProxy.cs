using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using Xks.Operator.Resources;

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
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private LocalProxy(Process process, string volumeRoot, int port)
    {
        _process = process;
        VolumeRoot = volumeRoot;
        Port = port;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
    }

    /// <summary>The folder standing in for the pod's file system (master key, TLS files, data directory).</summary>
    public string VolumeRoot { get; }

    /// <summary>The HTTPS port on 127.0.0.1 (the emulator's DNS override points the Vault hostname here).</summary>
    public int Port { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far (stdout and stderr in arrival order).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

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
    /// beforehand with <see cref="FreePort"/> (e.g. for the KMS emulator's DNS override), else a free one.
    /// </summary>
    /// <remarks><c>environment</c>: extra variables of the process (e.g. SOFTHSM2_CONF for a Vault on the PKCS#11 backend).</remarks>
    public static async Task<LocalProxy> StartAsync(IKubernetes client, string kubeconfig, string @namespace, string vault, string caFile, TimeSpan within, int? port = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var volumeRoot = Path.Combine(Path.GetTempPath(), "xks-local-proxy-" + Guid.NewGuid().ToString("N"));
        await WriteVolumesAsync(client, @namespace, vault, volumeRoot);
        port ??= FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "xks-proxy.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references proxy/Xks.Proxy.csproj so the proxy is copied next to the tests");
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = volumeRoot,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in ServeArguments(@namespace, vault, kubeconfig, volumeRoot, port.Value))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        foreach (var name in new[] { "XKS_PROXY_CONFIG", "XKS_PROXY_CONFIG_SECRET", "KUBECONFIG", "ASPNETCORE_URLS" })
        {
            info.Environment.Remove(name);
        }

        var process = new Process { StartInfo = info };
        var proxy = new LocalProxy(process, volumeRoot, port.Value);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        try
        {
            await proxy.WaitReadyAsync(caFile, within);
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(VolumeRoot, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task WaitReadyAsync(string caFile, TimeSpan within)
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
        var clock = Stopwatch.StartNew();
        string? lastProblem = null;
        while (clock.Elapsed < within)
        {
            Assert.False(_process.HasExited, $"the proxy exited with code {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{Port}{ProxyLayout.ReadinessPath}"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                lastProblem = $"GET {ProxyLayout.ReadinessPath} answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                lastProblem = ex.Message;
            }
            catch (TaskCanceledException ex)
            {
                lastProblem = ex.Message;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"the proxy was not ready within {within.TotalSeconds} s ({lastProblem}):\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.Append(line).Append('\n');
        }
    }

    private static string Under(string root, string absolutePath) => Path.Combine(root, absolutePath.TrimStart('/'));

    private static void WriteFile(string root, string absolutePath, byte[] content)
    {
        var path = Under(root, absolutePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static string DotnetHost()
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(dotnet) && File.Exists(dotnet))
        {
            return dotnet;
        }

        return Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
