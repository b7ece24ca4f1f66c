using Xks.Contracts.ProxyConfig;
using Xks.Operator.Entities;

namespace Xks.Operator.Options;

/// <summary>
/// What a Vault's spec may choose that runs code or steers traffic beyond the Vault itself, set by the operator's flags
/// (pure) — so that whoever may create a Vault cannot run an image of their choosing with the proxy's mounts, make the
/// operator load a library of their choosing into its own process, or hand the Ingress controller a configuration
/// snippet:
/// <list type="bullet">
/// <item><c>spec.proxy.image</c> must match one of <see cref="ProxyImages"/>; none given: any tag or digest of the
/// repository of the operator's default proxy image (<c>--proxy-image</c>);</item>
/// <item>every PKCS#11 library path (<c>spec.keyBackend.pkcs11.library</c> and each additional token's) must match one
/// of <see cref="Pkcs11Libraries"/> (the operator itself loads it to generate keys), by default the usual vendor
/// modules' paths in the operator's image (<see cref="KnownPkcs11Libraries"/>);</item>
/// <item>every Ingress, Service and pod annotation key must match one of <see cref="AnnotationKeys"/>, and no key that
/// names a snippet (<c>nginx.ingress.kubernetes.io/configuration-snippet</c> and its kind: raw controller configuration)
/// is ever allowed.</item>
/// </list>
/// Patterns use <c>*</c> for any run of characters (<see cref="Wildcard"/>).
/// </summary>
public sealed record VaultAllowList
{
    /// <summary>Proxy image patterns; empty: the repository of <see cref="DefaultProxyImage"/>, any tag or digest.</summary>
    public IReadOnlyList<string> ProxyImages { get; init; } = [];

    /// <summary>The operator's default proxy image (<c>--proxy-image</c>).</summary>
    public string DefaultProxyImage { get; init; } = V1Alpha1VaultProxy.DefaultImage;

    /// <summary>
    /// Where the usual PKCS#11 modules are installed (SoftHSM2 on Debian, Ubuntu and Fedora; AWS CloudHSM; Thales Luna;
    /// Entrust nShield): the default of <see cref="Pkcs11Libraries"/>. They are paths of the operator's image, which
    /// no tenant writes, so a tenant can pick among vendor modules but never make the operator load code of their own.
    /// </summary>
    public static IReadOnlyList<string> KnownPkcs11Libraries { get; } =
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/pkcs11/libsofthsm2.so",
        "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",
        "/usr/safenet/lunaclient/lib/libCryptoki2_64.so",
        "/opt/nfast/toolkits/pkcs11/libcknfast.so",
    ];

    /// <summary>PKCS#11 library path patterns. Default: <see cref="KnownPkcs11Libraries"/>; list your HSM client's module.</summary>
    public IReadOnlyList<string> Pkcs11Libraries { get; init; } = KnownPkcs11Libraries;

    /// <summary>Annotation key patterns for the Vault's Ingress, Service and pods. Default: any key but snippets.</summary>
    public IReadOnlyList<string> AnnotationKeys { get; init; } = ["*"];

    /// <summary>The image patterns in force: <see cref="ProxyImages"/>, or the default image's repository.</summary>
    public IReadOnlyList<string> EffectiveProxyImages =>
        ProxyImages.Count > 0 ? ProxyImages : [Repository(DefaultProxyImage) + ":*", Repository(DefaultProxyImage) + "@*"];

    /// <summary>What in <paramref name="vault"/>'s spec the flags do not allow; empty when all is allowed. Each names its field and the flag.</summary>
    public IReadOnlyList<string> Refusals(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var spec = vault.Spec ?? new V1Alpha1VaultSpec();
        var refusals = new List<string>();
        if (spec.Proxy?.Image is { Length: > 0 } image && !ImageAllowed(image))
        {
            refusals.Add($"spec.proxy.image {image} is not an image this operator runs (operator flag --allowed-proxy-image: {string.Join(", ", EffectiveProxyImages)})");
        }

        var libraries = new List<string?>();
        if (spec.KeyBackend?.Pkcs11 is { } pkcs11)
        {
            libraries.AddRange(new[] { pkcs11.Library }.Concat((pkcs11.AdditionalTokens ?? []).Select(t => t.Library)));
        }

        if (spec.KeyProtection?.Hsm is { } sealing)
        {
            libraries.AddRange(new[] { sealing.Library }.Concat((sealing.AdditionalTokens ?? []).Select(t => t.Library)));
        }

        foreach (var library in libraries.OfType<string>().Where(l => l.Length > 0).Distinct(StringComparer.Ordinal))
        {
            if (!LibraryAllowed(library))
            {
                refusals.Add($"PKCS#11 library {library} is not one this operator loads (operator flag --allowed-pkcs11-library: {string.Join(", ", Pkcs11Libraries)})");
            }
        }

        Check("spec.exposure.ingress.annotations", spec.Exposure?.Ingress?.Annotations);
        Check("spec.exposure.loadBalancer.annotations", spec.Exposure?.LoadBalancer?.Annotations);
        Check("spec.proxy.podAnnotations", spec.Proxy?.PodAnnotations);
        return refusals;

        void Check(string field, IDictionary<string, string>? annotations)
        {
            foreach (var key in (annotations ?? new Dictionary<string, string>()).Keys.Order(StringComparer.Ordinal))
            {
                if (key.Contains("snippet", StringComparison.OrdinalIgnoreCase))
                {
                    refusals.Add($"{field}: {key} would hand the controller raw configuration (snippets are never allowed)");
                }
                else if (!AnnotationKeys.Any(pattern => Wildcard.Matches(pattern, key)))
                {
                    refusals.Add($"{field}: {key} is not an annotation key this operator sets (operator flag --allowed-annotation-key: {string.Join(", ", AnnotationKeys)})");
                }
            }
        }
    }

    public bool ImageAllowed(string image) => EffectiveProxyImages.Any(pattern => Wildcard.Matches(pattern, image));

    /// <summary>
    /// Whether the operator may load <paramref name="path"/>: an absolute path in canonical form (no <c>.</c> or
    /// <c>..</c> segment, no empty one, so that <c>/usr/lib/softhsm/*</c> cannot be walked out of) that matches one of
    /// <see cref="Pkcs11Libraries"/>.
    /// </summary>
    public bool LibraryAllowed(string path) =>
        IsCanonicalAbsolutePath(path) && Pkcs11Libraries.Any(pattern => Wildcard.Matches(pattern, path));

    private static bool IsCanonicalAbsolutePath(string path) =>
        path.Length > 1 && path[0] == '/' && path[1..].Split('/').All(segment => segment is { Length: > 0 } and not "." and not "..");

    /// <summary>An image reference without its digest and tag (<c>registry:5000/a/b:1@sha256:…</c> → <c>registry:5000/a/b</c>).</summary>
    public static string Repository(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? image[..at] : image;
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }
}
