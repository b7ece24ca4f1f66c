using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Xks.Testing;

/// <summary>
/// The project's local control plane (etcd + kube-apiserver + kube-controller-manager on 127.0.0.1), brought up by
/// <c>tests/cluster/cluster.sh up</c> (idempotent, builds on first use). <c>make test</c> stops it afterwards.
/// One instance per test process (<see cref="Instance"/>); tests isolate themselves with a namespace each.
/// </summary>
public sealed class LocalCluster
{
    private static readonly Lazy<LocalCluster> LazyInstance = new(() => Task.Run(StartAsync).GetAwaiter().GetResult(), LazyThreadSafetyMode.ExecutionAndPublication);

    private LocalCluster(string kubeconfigPath, string binDirectory)
    {
        KubeconfigPath = kubeconfigPath;
        BinDirectory = binDirectory;
        Configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigPath);
        Client = new Kubernetes(Configuration);
    }

    /// <summary>The running cluster; the first call brings it up.</summary>
    public static LocalCluster Instance => LazyInstance.Value;

    public string KubeconfigPath { get; }

    /// <summary>Folder holding kubectl, helm and the control plane binaries.</summary>
    public string BinDirectory { get; }

    public KubernetesClientConfiguration Configuration { get; }

    public IKubernetes Client { get; }

    public string Kubectl => Path.Combine(BinDirectory, "kubectl");

    public string Helm => Path.Combine(BinDirectory, "helm");

    /// <summary>Creates a namespace with a random name; tests keep to their own namespace.</summary>
    public async Task<string> CreateNamespaceAsync(string prefix = "t")
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    /// <summary>Runs kubectl against this cluster and returns exit code, stdout and stderr.</summary>
    public Task<CommandResult> KubectlAsync(string arguments, string? stdin = null, CancellationToken cancellationToken = default) =>
        RunAsync(Kubectl, $"--kubeconfig {KubeconfigPath} {arguments}", stdin, cancellationToken);

    /// <summary>
    /// <c>kubectl wait --for condition=Established</c> on CRDs (e.g. <c>crd/vaults.xks.dev</c>). A CRD created a moment
    /// ago may have no status.conditions yet, which kubectl reports as an error instead of waiting: asked again then.
    /// </summary>
    public async Task WaitEstablishedAsync(string crds, CancellationToken cancellationToken = default)
    {
        var wait = await KubectlAsync($"wait --for condition=Established --timeout 60s {crds}", cancellationToken: cancellationToken);
        for (var attempt = 1; attempt < 20 && wait.ExitCode != 0 && wait.Output.Contains(".status.conditions accessor error", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            wait = await KubectlAsync($"wait --for condition=Established --timeout 60s {crds}", cancellationToken: cancellationToken);
        }

        wait.EnsureSuccess("kubectl wait Established " + crds);
    }

    /// <summary>Runs helm against this cluster.</summary>
    public Task<CommandResult> HelmAsync(string arguments, CancellationToken cancellationToken = default) =>
        RunAsync(Helm, $"--kubeconfig {KubeconfigPath} {arguments}", null, cancellationToken);

    public static async Task<CommandResult> RunAsync(string fileName, string arguments, string? stdin = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>The repository root (the folder holding XksOperator.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "XksOperator.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("XksOperator.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static async Task<LocalCluster> StartAsync()
    {
        var script = Path.Combine(RepositoryRoot, "tests", "cluster", "cluster.sh");
        var up = await RunAsync(script, "up").ConfigureAwait(false);
        if (up.ExitCode != 0)
        {
            throw new InvalidOperationException($"cluster.sh up failed ({up.ExitCode}):\n{up.StandardError}");
        }

        var kubeconfig = up.StandardOutput.Trim().Split('\n')[^1].Trim();
        var env = await RunAsync(script, "env").ConfigureAwait(false);
        var bin = env.StandardOutput.Split('\n').First(l => l.StartsWith("export PATH=", StringComparison.Ordinal))["export PATH=".Length..];
        bin = bin[..bin.IndexOf(":$PATH", StringComparison.Ordinal)].Trim('\'', '"');
        return new LocalCluster(kubeconfig, bin);
    }
}

/// <summary>Exit code and output of a command.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;

    public CommandResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed ({ExitCode}):\n{StandardOutput}\n{StandardError}");
        }

        return this;
    }
}
