using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// Rules the CRD's OpenAPI schema cannot express on Kubernetes 1.20 (no CEL): cross-field rules, and limits that come
/// from the names of the children. Every problem is one sentence naming the field; an empty list means valid. The
/// reconciler reports them as Ready=False, reason InvalidSpec, and creates nothing.
/// </summary>
public static partial class VaultSpecValidator
{
    /// <summary>
    /// 63 (a Service name is a DNS-1035 label) minus "-proxy-lb", the longest suffix of a child Service. Also keeps the
    /// xks.dev/vault label value within its 63 characters.
    /// </summary>
    public const int MaxNameLength = 63 - 9;

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    [GeneratedRegex(Patterns.Hostname)]
    private static partial Regex Hostname();

    [GeneratedRegex(@"^(?:([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")]
    private static partial Regex GoDurationPart();

    public static IReadOnlyList<string> Validate(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var problems = new List<string>();
        ValidateName(vault.Metadata?.Name, problems);

        var spec = vault.Spec;
        if (spec is null)
        {
            problems.Add("spec: required.");
            return problems;
        }

        ValidateReplicas(spec, problems);
        if (string.IsNullOrEmpty(spec.Hostname) || spec.Hostname.Length > 253 || !Hostname().IsMatch(spec.Hostname))
        {
            problems.Add($"spec.hostname: '{spec.Hostname}' is not a lowercase fully qualified DNS name (no port, no IP address, at most 253 characters), e.g. xks.example.com.");
        }

        ValidateTls(spec.Tls, problems);
        ValidateExposure(spec.Exposure, problems);
        ValidateClientCertificate(spec, problems);
        ValidateBackendTls(spec, problems);
        ValidateNetworkPolicy(spec.NetworkPolicy, problems);
        ValidateKeyBackend(spec.KeyBackend, problems);
        ValidateKeyProtection(spec, problems);
        if (spec.Proxy?.Image is { } image && (image.Length == 0 || image.Any(char.IsWhiteSpace)))
        {
            problems.Add($"spec.proxy.image: '{image}' is not an image reference; leave it out to use the operator's default image.");
        }

        return problems;
    }

    private static void ValidateName(string? name, List<string> problems)
    {
        if (string.IsNullOrEmpty(name))
        {
            problems.Add("metadata.name: required.");
        }
        else if (name.Length > MaxNameLength || !Dns1035Label().IsMatch(name))
        {
            problems.Add($"metadata.name: '{name}' must be at most {MaxNameLength} characters of a-z, 0-9 and '-', starting with a letter and ending with a letter or digit, because the Vault's Services are named after it (<name>-proxy-lb).");
        }
    }

    private static void ValidateReplicas(V1Alpha1VaultSpec spec, List<string> problems)
    {
        if (spec.Replicas is < 1 or > 50)
        {
            problems.Add($"spec.replicas: must be between 1 and 50 (got {spec.Replicas}).");
        }
        else if (spec.Replicas == 1 && !spec.AllowSingleReplica)
        {
            problems.Add("spec.replicas: 1 leaves the endpoint down whenever that pod restarts, and AWS KMS disconnects the key store; use 2 or more, or set spec.allowSingleReplica: true for a test or demo.");
        }
    }

    private static void ValidateTls(V1Alpha1VaultTls? tls, List<string> problems)
    {
        if (tls is null || (tls.IssuerRef is null && string.IsNullOrEmpty(tls.SecretName)))
        {
            problems.Add("spec.tls: set spec.tls.issuerRef (the operator requests a cert-manager Certificate) or spec.tls.secretName (an existing kubernetes.io/tls Secret).");
            return;
        }

        if (tls.IssuerRef is { } issuer && string.IsNullOrEmpty(issuer.Name))
        {
            problems.Add("spec.tls.issuerRef.name: required.");
        }

        var duration = CheckDuration(tls.Duration, "spec.tls.duration", problems);
        var renewBefore = CheckDuration(tls.RenewBefore, "spec.tls.renewBefore", problems);
        if (tls.IssuerRef is null)
        {
            if (tls.Duration is not null)
            {
                problems.Add("spec.tls.duration: only applies to a certificate requested through spec.tls.issuerRef; remove it or set issuerRef.");
            }

            if (tls.RenewBefore is not null)
            {
                problems.Add("spec.tls.renewBefore: only applies to a certificate requested through spec.tls.issuerRef; remove it or set issuerRef.");
            }

            return;
        }

        // cert-manager's own rules; checked here so the Vault says why instead of a Certificate failing quietly.
        if (duration is { } d && d < TimeSpan.FromHours(1))
        {
            problems.Add($"spec.tls.duration: cert-manager requires at least 1h (got {tls.Duration}).");
        }

        if (renewBefore is { } r && r < TimeSpan.FromMinutes(5))
        {
            problems.Add($"spec.tls.renewBefore: cert-manager requires at least 5m (got {tls.RenewBefore}).");
        }

        if (duration is { } dd && renewBefore is { } rr && rr >= dd)
        {
            problems.Add($"spec.tls.renewBefore: must be shorter than spec.tls.duration ({tls.RenewBefore} is not less than {tls.Duration}).");
        }
    }

    private static void ValidateClientCertificate(V1Alpha1VaultSpec spec, List<string> problems)
    {
        if (spec.Tls?.ClientCertificate is not { } mtls)
        {
            return;
        }

        if ((spec.Exposure?.Type ?? V1Alpha1ExposureType.Ingress) != V1Alpha1ExposureType.LoadBalancer)
        {
            problems.Add("spec.tls.clientCertificate: only applies to spec.exposure.type LoadBalancer, where the proxy terminates TLS; with an Ingress the ingress controller ends the TLS connection and the proxy never sees AWS KMS's client certificate. Remove it or change the type.");
            return;
        }

        if (string.IsNullOrEmpty(mtls.CaSecretRef?.Name))
        {
            problems.Add("spec.tls.clientCertificate.caSecretRef.name: required: the Secret (in the Vault's namespace) holding the PEM CA bundle that issues accepted client certificates.");
        }

        var subjects = mtls.AllowedSubjects ?? [];
        if (subjects.Count == 0)
        {
            problems.Add("spec.tls.clientCertificate.allowedSubjects: list at least one subject name, e.g. cks.kms.us-east-1.amazonaws.com for AWS KMS in us-east-1 (one per region of the Vault's KeySets); a Vault has no region of its own, so there is no default.");
        }

        for (var i = 0; i < subjects.Count; i++)
        {
            if (string.IsNullOrEmpty(subjects[i]) || subjects[i].Any(char.IsWhiteSpace))
            {
                problems.Add($"spec.tls.clientCertificate.allowedSubjects[{i}]: '{subjects[i]}' is not a subject name (a common name or DNS name without spaces, e.g. cks.kms.us-east-1.amazonaws.com).");
            }
        }
    }

    private static void ValidateBackendTls(V1Alpha1VaultSpec spec, List<string> problems)
    {
        if (spec.Tls?.BackendIssuerRef is not { } issuer)
        {
            return;
        }

        if (spec.Exposure?.Type == V1Alpha1ExposureType.LoadBalancer)
        {
            problems.Add("spec.tls.backendIssuerRef: only applies to spec.exposure.type Ingress (backend TLS between the Ingress and the proxy); with a LoadBalancer the proxy already serves the public certificate itself. Remove it or change the type.");
        }
        else if (string.IsNullOrEmpty(issuer.Name))
        {
            problems.Add("spec.tls.backendIssuerRef.name: required.");
        }
    }

    private static void ValidateNetworkPolicy(V1Alpha1VaultNetworkPolicy? networkPolicy, List<string> problems)
    {
        foreach (var (field, peers) in new[] { ("apiFrom", networkPolicy?.ApiFrom), ("metricsFrom", networkPolicy?.MetricsFrom) })
        {
            for (var i = 0; i < (peers?.Count ?? 0); i++)
            {
                if (NetworkPolicyPeers.Problem(peers![i]) is { } problem)
                {
                    problems.Add($"spec.networkPolicy.{field}[{i}]: {problem}.");
                }
            }
        }
    }

    private static void ValidateExposure(V1Alpha1VaultExposure? exposure, List<string> problems)
    {
        if (exposure is null)
        {
            return;
        }

        if (exposure.Type == V1Alpha1ExposureType.Ingress && exposure.LoadBalancer is not null)
        {
            problems.Add("spec.exposure.loadBalancer: only applies to spec.exposure.type LoadBalancer (the type is Ingress); remove it or change the type.");
        }

        if (exposure.Type == V1Alpha1ExposureType.LoadBalancer && exposure.Ingress is not null)
        {
            problems.Add("spec.exposure.ingress: only applies to spec.exposure.type Ingress (the type is LoadBalancer); remove it or change the type.");
        }

        var ranges = exposure.LoadBalancer?.LoadBalancerSourceRanges ?? [];
        for (var i = 0; i < ranges.Count; i++)
        {
            if (!IPNetwork.TryParse(ranges[i] ?? "", out _))
            {
                problems.Add($"spec.exposure.loadBalancer.loadBalancerSourceRanges[{i}]: '{ranges[i]}' is not a CIDR such as 203.0.113.0/24 (address bits beyond the prefix must be zero).");
            }
        }
    }

    private static void ValidateKeyBackend(V1Alpha1KeyBackend? backend, List<string> problems)
    {
        if (backend is null)
        {
            return;
        }

        if (backend.Type == V1Alpha1KeyBackendType.Software)
        {
            if (backend.Pkcs11 is not null)
            {
                problems.Add("spec.keyBackend.pkcs11: only applies to spec.keyBackend.type Pkcs11 (the type is Software); remove it or change the type.");
            }

            return;
        }

        var pkcs11 = backend.Pkcs11;
        if (pkcs11 is null)
        {
            problems.Add("spec.keyBackend.pkcs11: required when spec.keyBackend.type is Pkcs11 (library, tokenLabel or slot, pinSecretRef).");
            return;
        }

        CheckTokens("spec.keyBackend.pkcs11", pkcs11.Library, pkcs11.TokenLabel, pkcs11.Slot, pkcs11.PinSecretRef, pkcs11.AdditionalTokens, problems);

        var pool = pkcs11.SessionPool ?? new V1Alpha1Pkcs11SessionPool();
        if (pool.MaxSessions is < 1 or > 1024)
        {
            problems.Add($"spec.keyBackend.pkcs11.sessionPool.maxSessions: must be between 1 and 1024 (got {pool.MaxSessions}).");
        }

        if (CheckDuration(pool.WaitTimeout ?? V1Alpha1Pkcs11SessionPool.DefaultWaitTimeout, "spec.keyBackend.pkcs11.sessionPool.waitTimeout", problems) is { } wait
            && wait > TimeSpan.FromSeconds(10))
        {
            problems.Add($"spec.keyBackend.pkcs11.sessionPool.waitTimeout: at most 10s (got {pool.WaitTimeout}); AWS KMS gives up on the proxy after 250 ms anyway.");
        }
    }

    private static void ValidateKeyProtection(V1Alpha1VaultSpec spec, List<string> problems)
    {
        if (spec.KeyProtection is not { } protection)
        {
            return;
        }

        if (protection.Mode == V1Alpha1KeyProtectionMode.Plaintext)
        {
            if (protection.Hsm is not null)
            {
                problems.Add("spec.keyProtection.hsm: only applies to mode HsmSealed (the mode is Plaintext); remove it or set mode HsmSealed.");
            }

            return;
        }

        if (spec.KeyBackend?.Type == V1Alpha1KeyBackendType.Pkcs11)
        {
            problems.Add($"spec.keyProtection.mode: {protection.Mode} protects the software backend's root key; with keyBackend Pkcs11 the keys already live in the HSM — remove spec.keyProtection.");
            return;
        }

        if (protection.Mode == V1Alpha1KeyProtectionMode.Shamir)
        {
            if (protection.Hsm is not null)
            {
                problems.Add("spec.keyProtection.hsm: only applies to mode HsmSealed (the mode is Shamir); remove it.");
            }

            return;
        }

        if (protection.Hsm is not { } hsm)
        {
            problems.Add("spec.keyProtection.hsm: required when spec.keyProtection.mode is HsmSealed (library, tokenLabel or slot, pinSecretRef).");
            return;
        }

        CheckTokens("spec.keyProtection.hsm", hsm.Library, hsm.TokenLabel, hsm.Slot, hsm.PinSecretRef, hsm.AdditionalTokens, problems);
    }

    /// <summary>
    /// The PKCS#11 tokens a section names (keyBackend.pkcs11 or keyProtection.hsm): the library, the first token, the
    /// PIN Secret, and at most 9 more tokens, none named twice.
    /// </summary>
    private static void CheckTokens(string section, string? library, string? label, long? slot, V1Alpha1SecretKeyReference? pin, IList<V1Alpha1Pkcs11Token>? additional, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(library))
        {
            problems.Add($"{section}.library: required, the absolute path of the PKCS#11 module in the proxy image (and in the operator's pod), e.g. /usr/lib/softhsm/libsofthsm2.so.");
        }
        else
        {
            CheckLibrary(library, section + ".library", problems);
        }

        CheckToken(label, slot, section, problems);
        if (pin is null || string.IsNullOrEmpty(pin.Name))
        {
            problems.Add($"{section}.pinSecretRef.name: required, the Secret holding the token's user PIN.");
        }
        else if (string.IsNullOrEmpty(pin.Key))
        {
            problems.Add($"{section}.pinSecretRef.key: must name the key of the PIN in the Secret's data (default pin).");
        }

        var tokens = additional ?? [];
        if (tokens.Count > 9)
        {
            problems.Add($"{section}.additionalTokens: at most 9 (10 tokens in all); got {tokens.Count}.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { TokenKey(library, label, slot) };
        for (var i = 0; i < tokens.Count; i++)
        {
            var field = $"{section}.additionalTokens[{i}]";
            var token = tokens[i];
            if (token is null)
            {
                problems.Add($"{field}: must be an object with tokenLabel or slot.");
                continue;
            }

            CheckToken(token.TokenLabel, token.Slot, field, problems);
            if (token.Library is not null)
            {
                CheckLibrary(token.Library, field + ".library", problems);
            }

            if (!seen.Add(TokenKey(token.Library ?? library, token.TokenLabel, token.Slot)))
            {
                problems.Add($"{field}: names the same token as an earlier entry (same library and {(token.TokenLabel is null ? "slot" : "tokenLabel")}).");
            }
        }
    }

    private static void CheckToken(string? label, long? slot, string field, List<string> problems)
    {
        if (string.IsNullOrEmpty(label) == (slot is null))
        {
            problems.Add($"{field}: set exactly one of tokenLabel and slot to select the token{(slot is null ? "" : $" (both are set: tokenLabel '{label}', slot {slot})")}.");
        }
        else if (label is { Length: > 32 })
        {
            problems.Add($"{field}.tokenLabel: at most 32 characters (a PKCS#11 token label is 32 bytes); got {label.Length}.");
        }
    }

    private static void CheckLibrary(string library, string field, List<string> problems)
    {
        if (!library.StartsWith('/') || library.Any(char.IsWhiteSpace) || library.Contains("/../", StringComparison.Ordinal) || library.EndsWith('/'))
        {
            problems.Add($"{field}: '{library}' must be an absolute path to the PKCS#11 module file, e.g. /usr/lib/softhsm/libsofthsm2.so.");
        }
    }

    private static string TokenKey(string? library, string? label, long? slot) =>
        $"{library}\n{(label is null ? "slot:" + slot : "label:" + label)}";

    private static TimeSpan? CheckDuration(string? value, string field, List<string> problems)
    {
        if (value is null)
        {
            return null;
        }

        if (TryParseGoDuration(value) is { } duration)
        {
            return duration;
        }

        problems.Add($"{field}: '{value}' is not a Go duration such as 2160h or 90m.");
        return null;
    }

    /// <summary>Parses a Go duration without sign (e.g. 2160h, 1h30m, 1.5h); null when it is not one.</summary>
    public static TimeSpan? TryParseGoDuration(string value)
    {
        if (string.IsNullOrEmpty(value) || !GoDuration().IsMatch(value))
        {
            return null;
        }

        var ticks = 0m;
        foreach (Match part in GoDurationPart().Matches(value))
        {
            var number = decimal.Parse(part.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            var unit = part.Groups[2].Value switch
            {
                "ns" => 0.01m,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
            ticks += number * unit;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                return null;
            }
        }

        return TimeSpan.FromTicks((long)ticks);
    }
}
