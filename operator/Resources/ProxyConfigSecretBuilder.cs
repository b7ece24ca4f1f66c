using System.Text;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>The Secret the proxy watches for its config (it holds SigV4 secrets once KeySets exist).</summary>
public static class ProxyConfigSecretBuilder
{
    /// <summary>The config Secret with the rendered <paramref name="model"/> and its hash as an annotation.</summary>
    public static V1Secret Build(V1Alpha1Vault vault, ProxyConfigModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var yaml = ProxyConfigRenderer.Render(model);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VaultLabels.ConfigHashAnnotation] = ProxyConfigRenderer.Hash(yaml),
        };
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.ConfigSecret(vault), annotations),
            Type = "Opaque",
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [ProxyLayout.ConfigKey] = Encoding.UTF8.GetBytes(yaml) },
        };
    }
}
