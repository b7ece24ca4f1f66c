using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xks.Operator.Api;

namespace Xks.Operator.Backup;

/// <summary>Writes a backup into a namespace with the caller's credentials: reads what is there, plans (<see cref="RestorePlan"/>), then creates.</summary>
internal static class VaultRestorer
{
    private static readonly Dictionary<string, string> Plurals = new(StringComparer.Ordinal)
    {
        ["CspAccount"] = "cspaccounts",
        ["Vault"] = "vaults",
        ["KeySet"] = "keysets",
        ["CloudKey"] = "cloudkeys",
    };

    /// <summary>The steps taken; throws <see cref="BackupException"/> (nothing written) when a Secret would be overwritten.</summary>
    public static async Task<IReadOnlyList<RestoreStep>> RestoreAsync(IKubernetes client, VaultBackupContents contents, string ns, CancellationToken cancellationToken)
    {
        var secrets = new Dictionary<string, V1Secret>(StringComparer.Ordinal);
        var resources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in contents.Objects)
        {
            var kind = (string)item["kind"]!;
            var name = (string)item["metadata"]!["name"]!;
            if (kind == "Secret")
            {
                if (await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false) is { } secret)
                {
                    secrets[name] = secret;
                }
            }
            else if (await ExistsAsync(client, ns, Plurals[kind], name, cancellationToken).ConfigureAwait(false))
            {
                resources.Add($"{kind}/{name}");
            }
        }

        var steps = RestorePlan.For(contents, secrets, resources);
        if (steps.Where(s => s.Action == RestoreAction.Conflict).ToList() is { Count: > 0 } conflicts)
        {
            throw new BackupException("nothing was restored: " + string.Join("; ", conflicts.Select(c => $"Secret {ns}/{c.Name} {c.Note}")));
        }

        foreach (var step in steps.Where(s => s.Action == RestoreAction.Create))
        {
            var body = (JsonObject)step.Object.DeepClone();
            body["metadata"]!["namespace"] = ns;
            if (step.Kind == "Secret")
            {
                await client.CoreV1.CreateNamespacedSecretAsync(KubernetesJson.Deserialize<V1Secret>(body.ToJsonString()), ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await client.CustomObjects.CreateNamespacedCustomObjectAsync(body, "xks.dev", "v1alpha1", ns, Plurals[step.Kind], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        return steps;
    }

    private static async Task<bool> ExistsAsync(IKubernetes client, string ns, string plural, string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, plural, name, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
