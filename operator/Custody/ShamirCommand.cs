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
                : await RotateRootAsync(line, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ShamirInitException or IOException or UnauthorizedAccessException or HttpOperationException)
        {
            var message = ex is HttpOperationException ? "the API server answered " + Controllers.VaultController.Describe(ex) : ex.Message;
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

    /// <summary>
    /// The root rotation (<see cref="ShamirRotation"/>): the shares reconstruct the unseal key here, in this process
    /// only; a new root joins the keyring (the unsealed proxies open it with the unseal key they hold); every key
    /// version naming an older root is rewrapped under it (format 2: the same key, so the proxies serve on without a
    /// failed request); once the proxies' config serves none of the old blobs, the old roots leave the keyring.
    /// </summary>
    private static async Task<int> RotateRootAsync(ShamirCommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var client = Client(line);
        var ns = line.Namespace!;
        var vault = await ShamirVaultAsync(client, line, cancellationToken).ConfigureAwait(false);
        var vaultId = VaultNames.ShamirVaultId(vault);
        var unsealKey = await UnsealKeyAsync(line.ShareFiles, vaultId, cancellationToken).ConfigureAwait(false);
        try
        {
            var started = false;
            var retiredBlobs = new List<string>();
            for (var step = 0; step < 10; step++)
            {
                var (secret, keyring) = await KeyringAsync(client, vault, cancellationToken).ConfigureAwait(false);
                if (!keyring.IsUnsealKey(unsealKey))
                {
                    throw new ShamirInitException($"the shares do not reconstruct Vault {ns}/{vault.Metadata.Name}'s unseal key (check that every custodian used this Vault's share); nothing was changed");
                }

                var material = await MaterialAsync(client, vault, cancellationToken).ConfigureAwait(false);
                var inUse = material.SelectMany(m => m.Versions).Select(v => ShamirRotation.RootOf(v.WrappedMaterial)).ToList();
                var next = ShamirRotation.Next(keyring.RootVersions, keyring.CurrentRoot, inUse, started);
                started = true;
                switch (next.Action)
                {
                    case ShamirRotationAction.AddRoot:
                        var grown = keyring.WithNewRoot(unsealKey);
                        await ReplaceKeyringAsync(client, secret, grown.Serialize(), cancellationToken).ConfigureAwait(false);
                        await output.WriteLineAsync($"added root version {grown.CurrentRoot} to Secret {secret.Metadata.Name}; new key versions derive from it").ConfigureAwait(false);
                        break;

                    case ShamirRotationAction.Rewrap:
                        var rewrapped = await RewrapAsync(client, keyring, unsealKey, material, retiredBlobs, cancellationToken).ConfigureAwait(false);
                        await output.WriteLineAsync($"rewrapped {rewrapped} key version(s) that named root version {string.Join(", ", next.Roots)} under root version {keyring.CurrentRoot}").ConfigureAwait(false);
                        break;

                    case ShamirRotationAction.RetireRoots:
                        await WaitUntilServedAsync(client, vault, retiredBlobs, cancellationToken).ConfigureAwait(false);
                        var document = keyring.ToDocument();
                        document.Roots.RemoveAll(r => next.Roots.Contains(r.Version));
                        await ReplaceKeyringAsync(client, secret, ShamirKeyring.FromDocument(document).Serialize(), cancellationToken).ConfigureAwait(false);
                        await output.WriteLineAsync($"retired root version {string.Join(", ", next.Roots)} from Secret {secret.Metadata.Name}: backups taken before the rotation need the old keyring and shares").ConfigureAwait(false);
                        break;

                    default:
                        await output.WriteLineAsync($"Vault {ns}/{vault.Metadata.Name}: every key version is under root version {keyring.CurrentRoot}, the only root in the keyring").ConfigureAwait(false);
                        return 0;
                }
            }

            throw new ShamirInitException("the rotation did not settle in 10 steps (something else is changing the keyring or the key material); run it again");
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(unsealKey);
        }
    }

    private static async Task<byte[]> UnsealKeyAsync(IReadOnlyList<string> files, string vaultId, CancellationToken cancellationToken)
    {
        var shares = new List<CustodianShare>();
        try
        {
            foreach (var file in files)
            {
                var text = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
                if (!CustodianShare.TryParse(text, out var share, out var problem))
                {
                    throw new ShamirInitException($"{file}: {problem}");
                }

                shares.Add(share);
            }

            return CustodianShare.Combine(shares, vaultId);
        }
        catch (ArgumentException ex)
        {
            throw new ShamirInitException($"the shares cannot be combined: {ex.Message}");
        }
        finally
        {
            foreach (var share in shares)
            {
                share.Dispose();
            }
        }
    }

    private static async Task<int> RewrapAsync(Kubernetes client, ShamirKeyring keyring, byte[] unsealKey, List<(k8s.Models.V1Secret Secret, string KeyId, IReadOnlyList<ProxyKeyVersionModel> Versions)> material, List<string> retired, CancellationToken cancellationToken)
    {
        if (!keyring.TryUnseal(unsealKey, out var ring, out var problem))
        {
            throw new ShamirInitException($"the keyring does not open: {problem}");
        }

        using (ring)
        {
            var count = 0;
            var key = new byte[Xks.Contracts.KeyWrap.WrappedKey.KeySize];
            try
            {
                foreach (var (secret, keyId, versions) in material)
                {
                    if (versions.All(v => ShamirRotation.RootOf(v.WrappedMaterial) >= keyring.CurrentRoot))
                    {
                        continue;
                    }

                    var updated = versions.Select(v =>
                    {
                        if (ShamirRotation.RootOf(v.WrappedMaterial) >= keyring.CurrentRoot)
                        {
                            return v;
                        }

                        var opened = Xks.Contracts.KeyWrap.DerivedKey.IsDerived(Convert.FromBase64String(v.WrappedMaterial!))
                            ? ring.TryDerive(keyId, v.Version, Convert.FromBase64String(v.WrappedMaterial!), key, out _, out var why) ? null : why
                            : ring.TryUnwrap(keyId, v.Version, v.WrappedMaterial, key, out var unwrapProblem) == Xks.Contracts.KeyWrap.UnwrapOutcome.Ok ? null : unwrapProblem;
                        if (opened is not null)
                        {
                            throw new ShamirInitException($"Secret {secret.Metadata.Name}: version {v.Version} {opened}; nothing more was rewrapped");
                        }

                        count++;
                        retired.Add(v.WrappedMaterial!);
                        return v with { WrappedMaterial = ring.Wrap(keyId, v.Version, key) };
                    }).ToList();
                    await client.CoreV1.ReplaceNamespacedSecretAsync(KeyMaterialSecret.WithVersions(secret, updated), secret.Metadata.Name, secret.Metadata.NamespaceProperty,
                        fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
            }

            return count;
        }
    }

    /// <summary>Waits until the Vault's proxy config no longer carries any of <paramref name="blobs"/> (the operator re-rendered it), then a little more for the proxies to reload it.</summary>
    private static async Task WaitUntilServedAsync(Kubernetes client, V1Alpha1Vault vault, List<string> blobs, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            var config = await client.ReadSecretOrNullAsync(vault.Metadata.NamespaceProperty, VaultNames.ConfigSecret(vault), cancellationToken).ConfigureAwait(false);
            var text = config?.Data?.TryGetValue(ProxyLayout.ConfigKey, out var bytes) == true ? Encoding.UTF8.GetString(bytes) : "";
            if (text.Length > 0 && !blobs.Any(b => text.Contains(b, StringComparison.Ordinal)))
            {
                break;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new ShamirInitException($"the proxy config {VaultNames.ConfigSecret(vault)} still carries key versions under the old root after 5 minutes (is the operator running?); the old root stays; run again later");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }

        // The proxies watch their config Secret; give every replica time to load it before the old root goes.
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(k8s.Models.V1Secret Secret, ShamirKeyring Keyring)> KeyringAsync(Kubernetes client, V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var name = VaultNames.KeyringSecret(vault);
        var secret = await client.ReadSecretOrNullAsync(vault.Metadata.NamespaceProperty, name, cancellationToken).ConfigureAwait(false)
            ?? throw new ShamirInitException($"Secret {vault.Metadata.NamespaceProperty}/{name} does not exist: run shamir init first");
        var text = secret.Data?.TryGetValue(ProxyLayout.KeyringKey, out var bytes) == true ? Encoding.UTF8.GetString(bytes) : "";
        if (Controllers.KeyCustodyDecisions.KeyringProblem(text, VaultNames.ShamirVaultId(vault)) is { } problem)
        {
            throw new ShamirInitException($"Secret {name}: {problem}");
        }

        return (secret, ShamirKeyring.Parse(text));
    }

    private static async Task ReplaceKeyringAsync(Kubernetes client, k8s.Models.V1Secret secret, string keyringJson, CancellationToken cancellationToken)
    {
        // Optimistic concurrency on the read resourceVersion: a concurrent change fails this, and a rerun resumes.
        secret.Data![ProxyLayout.KeyringKey] = Encoding.UTF8.GetBytes(keyringJson);
        await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, secret.Metadata.NamespaceProperty, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<(k8s.Models.V1Secret Secret, string KeyId, IReadOnlyList<ProxyKeyVersionModel> Versions)>> MaterialAsync(Kubernetes client, V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var list = await client.CoreV1.ListNamespacedSecretAsync(vault.Metadata.NamespaceProperty,
            labelSelector: $"{VaultLabels.VaultLabel}={vault.Metadata.Name},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}", cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. list.Items
            .Where(s => KeyMaterialSecret.TryRead(s, out _, out _, out var backend, out _) && backend == KeyMaterialSecret.ShamirBackend)
            .Select(s =>
            {
                KeyMaterialSecret.TryRead(s, out var keyId, out var versions, out _);
                return (s, keyId, versions);
            })];
    }

    private static Kubernetes Client(ShamirCommandLine line) => AdminClient.For(line.Kubeconfig);

    private static async Task<V1Alpha1Vault> ShamirVaultAsync(Kubernetes client, ShamirCommandLine line, CancellationToken cancellationToken)
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
