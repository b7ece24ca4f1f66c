using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using Xks.Contracts.KeyCustody;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Custody;

/// <summary>
/// Runs <c>xks-operator shamir init|rotate-root</c> (<see cref="ShamirCommandLine"/>) with the caller's kubeconfig. Init
/// writes the share files first and the keyring Secret second, so a failure never leaves a keyring without shares (the
/// files are removed again when the Secret cannot be made). Exit codes: 0 done, 1 refused or failed, 2 usage.
/// </summary>
internal static class ShamirCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var line = ShamirCommandLine.Parse(args);
        if (line.Problems.Count > 0)
        {
            await error.WriteLineAsync("xks-operator: " + string.Join("\n  - ", line.Problems) + "\n\n" + ShamirCommandLine.Usage).ConfigureAwait(false);
            return 2;
        }

        try
        {
            return line.Verb == ShamirVerb.Init
                ? await InitAsync(line, output, cancellationToken).ConfigureAwait(false)
                : await ShamirRootRotationCommand.RunAsync(line, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ShamirInitException or IOException or UnauthorizedAccessException or HttpOperationException)
        {
            var message = ex is HttpOperationException ? "the API server answered " + Controllers.ApiErrors.Describe(ex) : ex.Message;
            await error.WriteLineAsync($"xks-operator shamir {(line.Verb == ShamirVerb.Init ? "init" : "rotate-root")}: {message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> InitAsync(ShamirCommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var client = Client(line);
        var ns = line.Namespace!;
        var vault = await ShamirVaultAsync(client, line, cancellationToken).ConfigureAwait(false);

        var secretName = VaultNames.KeyringSecret(vault);
        if (await client.ReadSecretOrNullAsync(ns, secretName, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new ShamirInitException($"Secret {ns}/{secretName} exists: the ceremony runs once per Vault (a second keyring would orphan every key sealed under the first); nothing was made");
        }

        var directory = line.OutDirectory!;
        Directory.CreateDirectory(directory);
        var files = Enumerable.Range(1, line.Shares).Select(i => Path.Combine(directory, $"{vault.Metadata.Name}-share-{i}-of-{line.Shares}.txt")).ToList();
        if (files.FirstOrDefault(File.Exists) is { } existing)
        {
            throw new ShamirInitException($"{existing} exists; choose an empty --out-dir (shares are never overwritten)");
        }

        var (keyring, shareTexts) = ShamirCeremony.Initialize(VaultNames.ShamirVaultId(vault), line.Threshold, line.Shares);
        try
        {
            for (var i = 0; i < files.Count; i++)
            {
                await WritePrivateAsync(files[i], shareTexts[i] + "\n", cancellationToken).ConfigureAwait(false);
            }

            await client.CoreV1.CreateNamespacedSecretAsync(KeyringSecretBuilder.Build(vault, keyring.Serialize()), ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var file in files.Where(File.Exists))
            {
                File.Delete(file);
            }

            throw;
        }

        await output.WriteLineAsync(
            $"made the keyring of Vault {ns}/{vault.Metadata.Name} (Secret {secretName}: root version {keyring.CurrentRoot} sealed under an unseal key with check value {keyring.UnsealKeyCheckValue}); " +
            $"wrote {files.Count} share files, any {line.Threshold} of which unseal it, to {directory}: give one to each custodian, then delete them here — nothing else holds them").ConfigureAwait(false);
        return 0;
    }

    internal static Kubernetes Client(ShamirCommandLine line) => AdminClient.For(line.Kubeconfig);

    /// <summary>The Vault the command names, refused unless it exists with keyProtection Shamir.</summary>
    internal static async Task<V1Alpha1Vault> ShamirVaultAsync(Kubernetes client, ShamirCommandLine line, CancellationToken cancellationToken)
    {
        var ns = line.Namespace!;
        V1Alpha1Vault vault;
        try
        {
            vault = KubernetesJson.Deserialize<V1Alpha1Vault>(KubernetesJson.Serialize(
                await client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, "vaults", line.Vault!, cancellationToken).ConfigureAwait(false)));
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ShamirInitException($"Vault {ns}/{line.Vault} does not exist; create it with spec.keyProtection.mode Shamir first");
        }

        return ProxyBackendModel.ForVault(vault).IsShamir
            ? vault
            : throw new ShamirInitException($"Vault {ns}/{line.Vault} does not use spec.keyProtection.mode Shamir; nothing was made");
    }

    private static async Task WritePrivateAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(content), cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The ceremony refuses: the message says why, and that nothing was made.</summary>
internal sealed class ShamirInitException(string message) : Exception(message);
