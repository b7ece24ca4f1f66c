using System.Text;
using k8s;
using Xks.Contracts.KeyCustody;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Custody;

/// <summary>
/// <c>xks-operator shamir rotate-root</c>: the custodians' root rotation, one step at a time as
/// <see cref="ShamirRotation"/> decides, until the keyring holds the new root alone.
/// </summary>
internal static class ShamirRootRotationCommand
{
    /// <summary>
    /// The root rotation (<see cref="ShamirRotation"/>): the shares reconstruct the unseal key here, in this process
    /// only; a new root joins the keyring (the unsealed proxies open it with the unseal key they hold); every key
    /// version naming an older root is rewrapped under it (format 2: the same key, so the proxies serve on without a
    /// failed request); once the proxies' config serves none of the old blobs, the old roots leave the keyring.
    /// </summary>
    public static async Task<int> RunAsync(ShamirCommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var client = ShamirCommand.Client(line);
        var ns = line.Namespace!;
        var vault = await ShamirCommand.ShamirVaultAsync(client, line, cancellationToken).ConfigureAwait(false);
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
}
