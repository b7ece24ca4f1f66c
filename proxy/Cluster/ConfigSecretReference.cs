using System.Text.RegularExpressions;

namespace Xks.Proxy.Cluster;

/// <summary>The Secret a proxy replica takes its configuration from (cluster mode): <c>namespace/name</c>, key <c>proxy.yaml</c>.</summary>
public readonly partial record struct ConfigSecretReference(string Namespace, string Name)
{
    /// <summary>The key of the Secret that holds the YAML document (what the Vault reconciler renders).</summary>
    public const string ConfigKey = "proxy.yaml";

    /// <summary>The list/watch filter on this one Secret, which RBAC with <c>resourceNames</c> allows.</summary>
    public string FieldSelector => "metadata.name=" + Name;

    /// <summary>The configuration's origin as logs name it.</summary>
    public string Description => $"Secret {this}";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex SubdomainPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex LabelPattern();

    /// <summary>
    /// Parses <c>[NAMESPACE/]NAME</c>; without a namespace, <paramref name="defaultNamespace"/> is used (the pod's own).
    /// </summary>
    public static bool TryParse(string value, Func<string> defaultNamespace, out ConfigSecretReference reference, out string problem)
    {
        reference = default;
        var parts = value.Trim().Split('/');
        if (parts.Length > 2)
        {
            problem = $"'{value}' is not NAME or NAMESPACE/NAME";
            return false;
        }

        var name = parts[^1];
        if (name.Length is 0 or > 253 || !SubdomainPattern().IsMatch(name))
        {
            problem = $"'{name}' is not a Secret name (lower-case letters, digits, '-' and '.', at most 253 characters)";
            return false;
        }

        var ns = parts.Length == 2 ? parts[0] : defaultNamespace();
        if (ns.Length is 0 or > 63 || !LabelPattern().IsMatch(ns))
        {
            problem = $"'{ns}' is not a namespace name (lower-case letters, digits and '-', at most 63 characters)";
            return false;
        }

        reference = new ConfigSecretReference(ns, name);
        problem = "";
        return true;
    }

    public override string ToString() => $"{Namespace}/{Name}";
}
