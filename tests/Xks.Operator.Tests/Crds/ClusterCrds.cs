using System.Text.RegularExpressions;
using Xks.Testing;

namespace Xks.Operator.Crds.Tests;

/// <summary>
/// Installs the committed xks.dev CRDs (config/crd/bases) into the local cluster for any test that needs them. The CRDs
/// are cluster-scoped and shared by every test and test process, so installing is an idempotent <c>kubectl apply</c>
/// that retries a lost race with a concurrent applier (AlreadyExists, Conflict), then waits until all are Established.
/// </summary>
public static partial class ClusterCrds
{
    private static readonly SemaphoreSlim Lock = new(1, 1);
    private static bool _installed;

    public static IReadOnlyList<string> Plurals { get; } = ["vaults", "cspaccounts", "clustercspaccounts", "keysets", "cloudkeys"];

    /// <summary>config/crd/bases of the repository.</summary>
    public static string Directory => Path.Combine(LocalCluster.RepositoryRoot, "config", "crd", "bases");

    /// <summary>Applies the CRDs again: the control plane was wiped and rebuilt (the control-plane drill).</summary>
    public static async Task ReinstallAsync(CancellationToken cancellationToken = default)
    {
        await Lock.WaitAsync(cancellationToken);
        _installed = false;
        Lock.Release();
        await InstallAsync(cancellationToken);
    }

    /// <summary>Applies the CRDs once per test process and waits for Established; later calls return at once.</summary>
    public static async Task InstallAsync(CancellationToken cancellationToken = default)
    {
        await Lock.WaitAsync(cancellationToken);
        try
        {
            if (_installed)
            {
                return;
            }

            var cluster = LocalCluster.Instance;
            CommandResult apply = await cluster.KubectlAsync($"apply -f {Directory}", cancellationToken: cancellationToken);
            for (var attempt = 1; attempt < 5 && apply.ExitCode != 0 && RetryableApplyError().IsMatch(apply.Output); attempt++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
                apply = await cluster.KubectlAsync($"apply -f {Directory}", cancellationToken: cancellationToken);
            }

            apply.EnsureSuccess("kubectl apply config/crd/bases");
            var names = string.Join(' ', Plurals.Select(p => $"crd/{p}.xks.dev"));
            await cluster.WaitEstablishedAsync(names, cancellationToken);
            _installed = true;
        }
        finally
        {
            Lock.Release();
        }
    }

    [GeneratedRegex("AlreadyExists|already exists|the object has been modified|Conflict", RegexOptions.IgnoreCase)]
    private static partial Regex RetryableApplyError();
}
