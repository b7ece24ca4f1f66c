namespace Xks.Contracts.ProxyConfig;

/// <summary>Where a proxy gets its configuration, which decides a few validation rules.</summary>
public enum ConfigurationMode
{
    /// <summary>One YAML file (<c>--config</c>): at least one key store.</summary>
    Standalone,

    /// <summary>
    /// The Secret the operator renders (<c>--config-secret</c>): zero key stores is valid (a Vault without KeySets
    /// yet); every XKS path then answers 404 while the probes keep working.
    /// </summary>
    Cluster,
}
