using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;
using Xks.Operator.Resources;

namespace Xks.Operator.Options;

/// <summary>What the command line asked for.</summary>
public enum OperatorCommand
{
    Run,
    Crds,
    Help,
}

/// <summary>
/// Parses <c>xks-operator [run] [--flag value …]</c> and <c>xks-operator crds --output DIR</c>. Every problem is
/// collected, so a bad start lists them all at once.
/// </summary>
public sealed record OperatorCommandLine(OperatorCommand Command, OperatorOptions Options, string? CrdOutput, IReadOnlyList<string> Problems)
{
    public const string Usage = """
        usage: xks-operator [run] [options]      reconcile Vaults, CspAccounts, KeySets and CloudKeys
               xks-operator crds --output DIR    write the CustomResourceDefinitions (config/crd/bases)
               xks-operator backup|restore|backup-key …
                                                 back up a Vault's keys to an encrypted bundle, restore one
                                                 (xks-operator backup --help; docs/key-custody.md)
               xks-operator shamir init …        the custodians' ceremony of a Shamir Vault: keyring and shares

        options of run:
          --kubeconfig PATH                 kubeconfig (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
          --namespace NS                    watch one namespace only (default: all namespaces)
          --leader-elect true|false         Lease-based leader election (default true)
          --leader-election-namespace NS    namespace of the Lease (default: the pod's namespace)
          --workers N                       concurrent reconciles per kind (default 2)
          --http-address ADDR               address of /healthz, /readyz and /metrics (default 0.0.0.0)
          --http-port PORT                  port of /healthz, /readyz and /metrics (default 8080)
          --resync-period DURATION          re-check every object this often, e.g. 10m, 1h (default 1h)
          --proxy-image IMAGE               proxy image for Vaults without spec.proxy.image
          --aws-resync-period DURATION      re-read KMS keys and key stores this often to find drift (default 3h)
          --credential-grace-period DURATION
                                            keep accepting a rotated-out SigV4 credential this long (default 2m)
          --access-key-settle DURATION      IAM access-key rotation: keep the replaced key active this long after the
                                            Secret holds the new one, before deactivating it (default 3m)
          --ambient-credentials-namespace NS
                                            CspAccounts in NS may use the operator's own AWS identity
                                            (credentials.source Default without assumeRole); repeatable (default: none)
          --serve-cluster-kinds true|false  serve ClusterCspAccounts (default: true without --namespace)
          --cluster-resource-namespace NS   where ClusterCspAccounts' credentials Secrets live
                                            (default: the operator's namespace, $POD_NAMESPACE)
          --allowed-role-arn PATTERN        a role ARN (* wildcard) CspAccounts may assume; repeatable (default: any)
          --allow-http-endpoints true|false accept http:// CspAccount endpoints beyond loopback (tests; default false)
          --allowed-proxy-image PATTERN     an image (* wildcard) Vaults may run as their proxy; repeatable
                                            (default: any tag or digest of --proxy-image's repository)
          --allowed-pkcs11-library PATTERN  a PKCS#11 library path (* wildcard) Vaults may use; repeatable (default: the
                                            usual SoftHSM2, CloudHSM, Luna and nShield module paths)
          --allowed-annotation-key PATTERN  an annotation key (* wildcard) for a Vault's Ingress, Service and pods;
                                            repeatable (default: any; keys naming a snippet never)
          --network-policy true|false       give every Vault a NetworkPolicy for its proxy pods unless its
                                            spec.networkPolicy.enabled says otherwise (default true)
          --network-policy-api-from PEER    a NetworkPolicyPeer as JSON, e.g. {"namespaceSelector":{"matchLabels":
                                            {"kubernetes.io/metadata.name":"ingress-nginx"}}}, that may reach the XKS
                                            API port of Vaults exposed through an Ingress; repeatable; none: no one
                                            (default: the namespace ingress-nginx)
          --network-policy-load-balancer-api-from PEER
                                            the same for Vaults exposed through a LoadBalancer (AWS KMS calls from
                                            outside the cluster); repeatable; none: no one (default: 0.0.0.0/0, ::/0)
          --network-policy-metrics-from PEER
                                            a NetworkPolicyPeer that may scrape the proxies' metrics port; repeatable;
                                            none: no one (default: the namespace monitoring)
        """;

    public static OperatorCommandLine Parse(IReadOnlyList<string> args)
    {
        var options = new OperatorOptions();
        var problems = new List<string>();
        var command = OperatorCommand.Run;
        string? crdOutput = null;
        var i = 0;
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            switch (args[0])
            {
                case "run":
                    break;
                case "crds":
                    command = OperatorCommand.Crds;
                    break;
                case "help":
                    command = OperatorCommand.Help;
                    break;
                default:
                    problems.Add($"unknown command '{args[0]}' (expected run or crds)");
                    break;
            }

            i = 1;
        }

        for (; i < args.Count; i++)
        {
            var arg = args[i];
            string name;
            string? value;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }
            else
            {
                name = arg;
                value = i + 1 < args.Count ? args[i + 1] : null;
                if (name is not ("--help" or "-h"))
                {
                    i++;
                }
            }

            if (name is "--help" or "-h")
            {
                command = OperatorCommand.Help;
                continue;
            }

            if (value is null)
            {
                problems.Add($"{name}: a value is required");
                continue;
            }

            if (command == OperatorCommand.Crds)
            {
                if (name == "--output")
                {
                    crdOutput = value;
                }
                else
                {
                    problems.Add($"unknown option '{name}' for crds (expected --output DIR)");
                }

                continue;
            }

            switch (name)
            {
                case "--kubeconfig":
                    options.Kubeconfig = value;
                    break;
                case "--namespace":
                    options.Namespace = value.Length == 0 ? null : value;
                    break;
                case "--leader-elect":
                    ParseBool(name, value, problems, v => options.LeaderElect = v);
                    break;
                case "--leader-election-namespace":
                    options.LeaderElectionNamespace = value;
                    break;
                case "--workers":
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var workers) && workers is >= 1 and <= 64)
                    {
                        options.Workers = workers;
                    }
                    else
                    {
                        problems.Add($"--workers: '{value}' is not a number from 1 to 64");
                    }

                    break;
                case "--http-address":
                    options.HttpAddress = value;
                    break;
                case "--http-port":
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535)
                    {
                        options.HttpPort = port;
                    }
                    else
                    {
                        problems.Add($"--http-port: '{value}' is not a port number (0-65535)");
                    }

                    break;
                case "--resync-period":
                    if (TryParseDuration(value, out var period) && period >= TimeSpan.FromSeconds(10))
                    {
                        options.ResyncPeriod = period;
                    }
                    else
                    {
                        problems.Add($"--resync-period: '{value}' is not a duration of at least 10s (e.g. 30s, 10m, 1h)");
                    }

                    break;
                case "--proxy-image":
                    options.ProxyImage = value;
                    break;
                case "--aws-resync-period":
                    if (TryParseDuration(value, out var awsPeriod) && awsPeriod >= TimeSpan.FromSeconds(1))
                    {
                        options.AwsResyncPeriod = awsPeriod;
                    }
                    else
                    {
                        problems.Add($"--aws-resync-period: '{value}' is not a duration of at least 1s (e.g. 30s, 5m)");
                    }

                    break;
                case "--credential-grace-period":
                    if (TryParseDuration(value, out var grace) && grace >= TimeSpan.Zero)
                    {
                        options.CredentialGracePeriod = grace;
                    }
                    else
                    {
                        problems.Add($"--credential-grace-period: '{value}' is not a duration (e.g. 0s, 30s, 2m)");
                    }

                    break;
                case "--access-key-settle":
                    if (TryParseDuration(value, out var settle) && settle >= TimeSpan.Zero)
                    {
                        options.AccessKeySettle = settle;
                    }
                    else
                    {
                        problems.Add($"--access-key-settle: '{value}' is not a duration (e.g. 0s, 30s, 3m)");
                    }

                    break;
                case "--serve-cluster-kinds":
                    ParseBool(name, value, problems, v => options.ServeClusterKinds = v);
                    break;
                case "--cluster-resource-namespace":
                    if (value.Length == 0)
                    {
                        problems.Add("--cluster-resource-namespace: a namespace is required");
                    }
                    else
                    {
                        options.ClusterResourceNamespace = value;
                    }

                    break;
                case "--ambient-credentials-namespace":
                    if (value.Length == 0)
                    {
                        problems.Add("--ambient-credentials-namespace: a namespace is required");
                    }
                    else
                    {
                        options.AmbientCredentialsNamespaces.Add(value);
                    }

                    break;
                case "--allowed-role-arn":
                    if (value == "*" || value.StartsWith("arn:", StringComparison.Ordinal))
                    {
                        options.AllowedRoleArns.Add(value);
                    }
                    else
                    {
                        problems.Add($"--allowed-role-arn: '{value}' is not a role ARN pattern (arn:aws:iam::123456789012:role/xks-*, or *)");
                    }

                    break;
                case "--allowed-proxy-image" or "--allowed-pkcs11-library" or "--allowed-annotation-key":
                    if (value.Length == 0)
                    {
                        problems.Add($"{name}: a pattern is required");
                    }
                    else
                    {
                        (name switch
                        {
                            "--allowed-proxy-image" => options.AllowedProxyImages,
                            "--allowed-pkcs11-library" => options.AllowedPkcs11Libraries,
                            _ => options.AllowedAnnotationKeys,
                        }).Add(value);
                    }

                    break;
                case "--network-policy":
                    ParseBool(name, value, problems, v => options.NetworkPolicy = v);
                    break;
                case "--network-policy-api-from" or "--network-policy-load-balancer-api-from" or "--network-policy-metrics-from":
                    var peers = name switch
                    {
                        "--network-policy-api-from" => options.NetworkPolicyApiFrom ??= [],
                        "--network-policy-load-balancer-api-from" => options.NetworkPolicyLoadBalancerApiFrom ??= [],
                        _ => options.NetworkPolicyMetricsFrom ??= [],
                    };
                    if (value != "none")
                    {
                        if (TryParsePeer(value, out var peer, out var peerProblem))
                        {
                            peers.Add(peer);
                        }
                        else
                        {
                            problems.Add($"{name}: {peerProblem}");
                        }
                    }

                    break;
                case "--allow-http-endpoints":
                    ParseBool(name, value, problems, v => options.AllowHttpEndpoints = v);
                    break;
                default:
                    problems.Add($"unknown option '{name}'");
                    break;
            }
        }

        if (command == OperatorCommand.Crds && crdOutput is null)
        {
            problems.Add("crds: --output DIR is required");
        }

        return new OperatorCommandLine(command, options, crdOutput, problems);
    }

    /// <summary>A true|false flag: <paramref name="set"/> with its value, or a problem naming the flag.</summary>
    private static void ParseBool(string name, string value, List<string> problems, Action<bool> set)
    {
        if (bool.TryParse(value, out var parsed))
        {
            set(parsed);
        }
        else
        {
            problems.Add($"{name}: '{value}' is not true or false");
        }
    }

    /// <summary>
    /// A networking.k8s.io/v1 NetworkPolicyPeer from its JSON: at least one of podSelector, namespaceSelector and
    /// ipBlock, and an ipBlock's cidr and except are CIDRs.
    /// </summary>
    public static bool TryParsePeer(string json, out V1NetworkPolicyPeer peer, out string problem)
    {
        ArgumentNullException.ThrowIfNull(json);
        peer = new V1NetworkPolicyPeer();
        try
        {
            peer = KubernetesJson.Deserialize<V1NetworkPolicyPeer>(json) ?? new V1NetworkPolicyPeer();
        }
        catch (JsonException ex)
        {
            problem = $"'{json}' is not a NetworkPolicyPeer in JSON ({ex.Message})";
            return false;
        }

        problem = NetworkPolicyPeers.Problem(peer) is { } peerProblem ? $"'{json}' {peerProblem}" : "";
        return problem.Length == 0;
    }

    /// <summary>Parses 90s, 10m, 1h, 1h30m.</summary>
    /// <summary>A Go duration (30s, 10m, 1h30m, 1.5h, 250ms), as the CRDs accept them.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration) => GoDuration.TryParse(text, out duration);
}
