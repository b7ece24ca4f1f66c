using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class VaultSpecValidatorTests
{
    private static string Single(V1Alpha1Vault vault) => Assert.Single(VaultSpecValidator.Validate(vault));

    [Theory]
    [InlineData("ingress-issuer")]
    [InlineData("loadbalancer-secret")]
    public void Validate_Samples_HaveNoProblems(string sample) =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.LoadVault(sample)));

    [Fact]
    public void Validate_RepositorySample_HasNoProblemsAndBuilds()
    {
        var vault = ResourceTestSupport.LoadRepositorySample();

        Assert.Empty(VaultSpecValidator.Validate(vault));
        Assert.NotEmpty(VaultResources.Build(vault, new VaultResourceOptions()).All());
    }

    [Fact]
    public void Validate_MinimalVault_HasNoProblems() => Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault()));

    [Fact]
    public void Validate_OneReplicaWithoutOptIn_NamesAllowSingleReplica()
    {
        var problem = Single(ResourceTestSupport.MinimalVault(s => s.Replicas = 1));

        Assert.StartsWith("spec.replicas: ", problem, StringComparison.Ordinal);
        Assert.Contains("spec.allowSingleReplica: true", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OneReplicaWithOptIn_IsValid() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s => { s.Replicas = 1; s.AllowSingleReplica = true; })));

    [Theory]
    [InlineData(0)]
    [InlineData(51)]
    public void Validate_ReplicasOutOfRange_IsAProblem(int replicas) =>
        Assert.StartsWith("spec.replicas: must be between 1 and 50", Single(ResourceTestSupport.MinimalVault(s => s.Replicas = replicas)), StringComparison.Ordinal);

    [Theory]
    [InlineData("")]
    [InlineData("xks.example.com:443")]
    [InlineData("10.0.0.1")]
    [InlineData("XKS.example.com")]
    [InlineData("localhost")]
    public void Validate_BadHostname_NamesTheField(string hostname) =>
        Assert.StartsWith("spec.hostname: ", Single(ResourceTestSupport.MinimalVault(s => s.Hostname = hostname)), StringComparison.Ordinal);

    [Fact]
    public void Validate_NoTls_AsksForIssuerRefOrSecretName()
    {
        var problem = Single(ResourceTestSupport.MinimalVault(s => s.Tls = null));

        Assert.StartsWith("spec.tls: ", problem, StringComparison.Ordinal);
        Assert.Contains("spec.tls.issuerRef", problem, StringComparison.Ordinal);
        Assert.Contains("spec.tls.secretName", problem, StringComparison.Ordinal);
        Assert.StartsWith("spec.tls: ", Single(ResourceTestSupport.MinimalVault(s => s.Tls = new V1Alpha1VaultTls())), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SecretNameOnly_IsValid() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s => s.Tls = new V1Alpha1VaultTls { SecretName = "cert" })));

    [Fact]
    public void Validate_DurationWithoutIssuer_IsAProblem()
    {
        var problems = VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s =>
            s.Tls = new V1Alpha1VaultTls { SecretName = "cert", Duration = "2160h", RenewBefore = "360h" }));

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("spec.tls.duration: only applies", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("spec.tls.renewBefore: only applies", problems[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30m", null, "spec.tls.duration: cert-manager requires at least 1h")]
    [InlineData(null, "1m", "spec.tls.renewBefore: cert-manager requires at least 5m")]
    [InlineData("24h", "24h", "spec.tls.renewBefore: must be shorter than spec.tls.duration")]
    [InlineData("1h30m", "2h", "spec.tls.renewBefore: must be shorter than spec.tls.duration")]
    [InlineData("90 days", null, "spec.tls.duration: '90 days' is not a Go duration")]
    public void Validate_CertificateLifetimes_FollowCertManagersRules(string? duration, string? renewBefore, string expected)
    {
        var vault = ResourceTestSupport.MinimalVault(s =>
        {
            s.Tls!.Duration = duration;
            s.Tls.RenewBefore = renewBefore;
        });

        Assert.StartsWith(expected, Single(vault), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IssuerRefWithoutName_IsAProblem() =>
        Assert.Equal("spec.tls.issuerRef.name: required.", Single(ResourceTestSupport.MinimalVault(s => s.Tls!.IssuerRef!.Name = "")));

    [Fact]
    public void Validate_LoadBalancerSettingsWithIngressExposure_IsAProblem()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure
        {
            Type = V1Alpha1ExposureType.Ingress,
            LoadBalancer = new V1Alpha1VaultLoadBalancer(),
        });

        Assert.StartsWith("spec.exposure.loadBalancer: only applies to spec.exposure.type LoadBalancer", Single(vault), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IngressSettingsWithLoadBalancerExposure_IsAProblem()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure
        {
            Type = V1Alpha1ExposureType.LoadBalancer,
            Ingress = new V1Alpha1VaultIngress { ClassName = "nginx" },
        });

        Assert.StartsWith("spec.exposure.ingress: only applies to spec.exposure.type Ingress", Single(vault), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("2001:db8::/32", true)]
    [InlineData("10.0.0.0", false)]
    [InlineData("10.0.0.0/33", false)]
    [InlineData("example.com/24", false)]
    public void Validate_LoadBalancerSourceRanges_MustBeCidrs(string range, bool valid)
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure
        {
            Type = V1Alpha1ExposureType.LoadBalancer,
            LoadBalancer = new V1Alpha1VaultLoadBalancer { LoadBalancerSourceRanges = [range] },
        });

        var problems = VaultSpecValidator.Validate(vault);

        if (valid)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.StartsWith("spec.exposure.loadBalancer.loadBalancerSourceRanges[0]: ", Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_Pkcs11WithoutSection_NamesTheSection() =>
        Assert.StartsWith(
            "spec.keyBackend.pkcs11: required when spec.keyBackend.type is Pkcs11",
            Single(ResourceTestSupport.MinimalVault(s => s.KeyBackend = new V1Alpha1KeyBackend { Type = V1Alpha1KeyBackendType.Pkcs11 })),
            StringComparison.Ordinal);

    [Fact]
    public void Validate_Pkcs11Incomplete_NamesEachMissingField()
    {
        var problems = VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s => s.KeyBackend = new V1Alpha1KeyBackend
        {
            Type = V1Alpha1KeyBackendType.Pkcs11,
            Pkcs11 = new V1Alpha1Pkcs11Backend(),
        }));

        Assert.Equal(
            ["spec.keyBackend.pkcs11.library", "spec.keyBackend.pkcs11", "spec.keyBackend.pkcs11.pinSecretRef.name"],
            problems.Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)]));
    }

    [Fact]
    public void Validate_HsmSealedComplete_IsValid() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s => s.KeyProtection = SealedProtection())));

    [Fact]
    public void Validate_HsmSealedSample_HasNoProblems() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.LoadVault("hsm-sealed")));

    [Fact]
    public void Validate_HsmSealedWithoutHsm_NamesTheSection() =>
        Assert.StartsWith(
            "spec.keyProtection.hsm: required when spec.keyProtection.mode is HsmSealed",
            Single(ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.HsmSealed })),
            StringComparison.Ordinal);

    [Fact]
    public void Validate_HsmSealedIncomplete_NamesEachMissingField()
    {
        var problems = VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection
        {
            Mode = V1Alpha1KeyProtectionMode.HsmSealed,
            Hsm = new V1Alpha1SealingHsm { AdditionalTokens = [new V1Alpha1Pkcs11Token { TokenLabel = "b", Library = "relative.so" }] },
        }));

        Assert.Equal(
            ["spec.keyProtection.hsm.library", "spec.keyProtection.hsm", "spec.keyProtection.hsm.pinSecretRef.name", "spec.keyProtection.hsm.additionalTokens[0].library"],
            problems.Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)]));
    }

    [Fact]
    public void Validate_HsmSealedOnThePkcs11Backend_IsRefused() =>
        Assert.StartsWith(
            "spec.keyProtection.mode: HsmSealed protects the software backend's root key",
            Single(Pkcs11Vault(_ => { }, s => s.KeyProtection = SealedProtection())),
            StringComparison.Ordinal);

    [Fact]
    public void Validate_PlaintextWithAnHsm_IsRefused() =>
        Assert.StartsWith(
            "spec.keyProtection.hsm: only applies to mode HsmSealed",
            Single(ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection { Hsm = SealedProtection().Hsm })),
            StringComparison.Ordinal);

    [Fact]
    public void Validate_Shamir_IsValid() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir })));

    [Fact]
    public void Validate_ShamirWithAnHsm_IsRefused() =>
        Assert.StartsWith(
            "spec.keyProtection.hsm: only applies to mode HsmSealed (the mode is Shamir)",
            Single(ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir, Hsm = SealedProtection().Hsm })),
            StringComparison.Ordinal);

    [Fact]
    public void Validate_ShamirOnThePkcs11Backend_IsRefused() =>
        Assert.StartsWith(
            "spec.keyProtection.mode: Shamir protects the software backend's root key",
            Single(Pkcs11Vault(_ => { }, s => s.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir })),
            StringComparison.Ordinal);

    private static V1Alpha1KeyProtection SealedProtection() => new()
    {
        Mode = V1Alpha1KeyProtectionMode.HsmSealed,
        Hsm = new V1Alpha1SealingHsm { Library = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "xks-root", PinSecretRef = new V1Alpha1SecretKeyReference { Name = "root-pin" } },
    };

    [Fact]
    public void Validate_Pkcs11Complete_IsSupported() =>
        Assert.Empty(VaultSpecValidator.Validate(Pkcs11Vault(_ => { })));

    [Fact]
    public void Validate_Pkcs11Sample_HasNoProblems() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.LoadVault("pkcs11-hsm")));

    [Fact]
    public void Validate_Pkcs11EveryProblem_ListsThemAllAtOnce()
    {
        var problems = VaultSpecValidator.Validate(Pkcs11Vault(p =>
        {
            p.Library = "libsofthsm2.so";
            p.Slot = 3;
            p.PinSecretRef = new V1Alpha1SecretKeyReference { Name = "hsm-pin", Key = "" };
            p.AdditionalTokens = [new V1Alpha1Pkcs11Token(), new V1Alpha1Pkcs11Token { TokenLabel = "xks" }, new V1Alpha1Pkcs11Token { TokenLabel = "b", Library = "relative.so" }];
            p.SessionPool = new V1Alpha1Pkcs11SessionPool { MaxSessions = 0, WaitTimeout = "11s" };
        }));

        Assert.Equal(
            [
                "spec.keyBackend.pkcs11.library",
                "spec.keyBackend.pkcs11",
                "spec.keyBackend.pkcs11.pinSecretRef.key",
                "spec.keyBackend.pkcs11.additionalTokens[0]",
                "spec.keyBackend.pkcs11.additionalTokens[1]",
                "spec.keyBackend.pkcs11.additionalTokens[2].library",
                "spec.keyBackend.pkcs11.sessionPool.maxSessions",
                "spec.keyBackend.pkcs11.sessionPool.waitTimeout",
            ],
            problems.Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)]));
        Assert.Contains("both are set", problems[1], StringComparison.Ordinal);
        Assert.Contains("same token", problems[4], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("100ms", true)]
    [InlineData("10s", true)]
    [InlineData("10.5s", false)]
    [InlineData("soon", false)]
    public void Validate_Pkcs11WaitTimeout_AGoDurationOfAtMostTenSeconds(string wait, bool valid)
    {
        var problems = VaultSpecValidator.Validate(Pkcs11Vault(p => p.SessionPool = new V1Alpha1Pkcs11SessionPool { WaitTimeout = wait }));

        Assert.Equal(valid, problems.Count == 0);
        Assert.All(problems, p => Assert.StartsWith("spec.keyBackend.pkcs11.sessionPool.waitTimeout: ", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Pkcs11TenTokens_AcceptedElevenRefused()
    {
        V1Alpha1Pkcs11Token[] Tokens(int n) => [.. Enumerable.Range(1, n).Select(i => new V1Alpha1Pkcs11Token { Slot = i })];

        Assert.Empty(VaultSpecValidator.Validate(Pkcs11Vault(p => p.AdditionalTokens = Tokens(9))));
        Assert.StartsWith("spec.keyBackend.pkcs11.additionalTokens: at most 9", Single(Pkcs11Vault(p => p.AdditionalTokens = Tokens(10))), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Pkcs11SameSlotThroughAnotherLibrary_IsAnotherToken() =>
        Assert.Empty(VaultSpecValidator.Validate(Pkcs11Vault(p =>
        {
            p.TokenLabel = null;
            p.Slot = 1;
            p.AdditionalTokens = [new V1Alpha1Pkcs11Token { Slot = 1, Library = "/opt/other/libpkcs11.so" }];
        })));

    private static V1Alpha1Vault Pkcs11Vault(Action<V1Alpha1Pkcs11Backend> configure, Action<V1Alpha1VaultSpec>? spec = null)
    {
        var pkcs11 = new V1Alpha1Pkcs11Backend
        {
            Library = "/usr/lib/softhsm/libsofthsm2.so",
            TokenLabel = "xks",
            PinSecretRef = new V1Alpha1SecretKeyReference { Name = "xks-hsm-pin" },
        };
        configure(pkcs11);
        return ResourceTestSupport.MinimalVault(s =>
        {
            s.KeyBackend = new V1Alpha1KeyBackend { Type = V1Alpha1KeyBackendType.Pkcs11, Pkcs11 = pkcs11 };
            spec?.Invoke(s);
        });
    }

    [Fact]
    public void Validate_Pkcs11SectionWithSoftwareBackend_IsAProblem() =>
        Assert.StartsWith(
            "spec.keyBackend.pkcs11: only applies to spec.keyBackend.type Pkcs11",
            Single(ResourceTestSupport.MinimalVault(s => s.KeyBackend = new V1Alpha1KeyBackend { Pkcs11 = new V1Alpha1Pkcs11Backend() })),
            StringComparison.Ordinal);

    [Theory]
    [InlineData("a-name-that-is-exactly-fifty-four-characters-long-abcd", true)]
    [InlineData("a-name-that-is-exactly-fifty-five-characters-long-abcde", false)]
    [InlineData("1vault", false)]
    [InlineData("my.vault", false)]
    [InlineData("vault-", false)]
    public void Validate_Name_MustLeaveRoomForTheChildServiceNames(string name, bool valid)
    {
        var vault = ResourceTestSupport.MinimalVault();
        vault.Metadata.Name = name;

        var problems = VaultSpecValidator.Validate(vault);

        if (valid)
        {
            Assert.Empty(problems);
            Assert.True(VaultNames.LoadBalancerService(vault).Length <= 63);
        }
        else
        {
            Assert.StartsWith("metadata.name: ", Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    private static V1Alpha1Vault MutualTlsVault(V1Alpha1ExposureType exposure, string? caSecret, params string[] subjects) =>
        ResourceTestSupport.MinimalVault(s =>
        {
            s.Exposure = new V1Alpha1VaultExposure { Type = exposure };
            s.Tls!.ClientCertificate = new V1Alpha1VaultClientCertificate
            {
                CaSecretRef = new V1Alpha1CaSecretReference { Name = caSecret ?? "" },
                AllowedSubjects = subjects,
            };
        });

    public static TheoryData<V1Alpha1ExposureType, string?, string[], string[]> ClientCertificateCases => new()
    {
        // exposure, CA Secret, allowed subjects, expected problems (empty: valid)
        { V1Alpha1ExposureType.LoadBalancer, "kms-ca", ["cks.kms.us-east-1.amazonaws.com"], [] },
        { V1Alpha1ExposureType.LoadBalancer, "kms-ca", ["cks.kms.us-east-1.amazonaws.com", "cks.kms.eu-west-1.amazonaws.com"], [] },
        {
            V1Alpha1ExposureType.Ingress, "kms-ca", ["cks.kms.us-east-1.amazonaws.com"],
            ["spec.tls.clientCertificate: only applies to spec.exposure.type LoadBalancer, where the proxy terminates TLS; with an Ingress the ingress controller ends the TLS connection and the proxy never sees AWS KMS's client certificate. Remove it or change the type."]
        },
        {
            V1Alpha1ExposureType.LoadBalancer, "kms-ca", [],
            ["spec.tls.clientCertificate.allowedSubjects: list at least one subject name, e.g. cks.kms.us-east-1.amazonaws.com for AWS KMS in us-east-1 (one per region of the Vault's KeySets); a Vault has no region of its own, so there is no default."]
        },
        {
            V1Alpha1ExposureType.LoadBalancer, null, ["cks.kms.us-east-1.amazonaws.com"],
            ["spec.tls.clientCertificate.caSecretRef.name: required: the Secret (in the Vault's namespace) holding the PEM CA bundle that issues accepted client certificates."]
        },
        {
            V1Alpha1ExposureType.LoadBalancer, "kms-ca", ["cks.kms.us-east-1.amazonaws.com", "", "cks kms"],
            [
                "spec.tls.clientCertificate.allowedSubjects[1]: '' is not a subject name (a common name or DNS name without spaces, e.g. cks.kms.us-east-1.amazonaws.com).",
                "spec.tls.clientCertificate.allowedSubjects[2]: 'cks kms' is not a subject name (a common name or DNS name without spaces, e.g. cks.kms.us-east-1.amazonaws.com).",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ClientCertificateCases))]
    public void Validate_ClientCertificate_OnlyWithLoadBalancerACaSecretAndExplicitSubjects(
        V1Alpha1ExposureType exposure, string? caSecret, string[] subjects, string[] expected) =>
        Assert.Equal(expected, VaultSpecValidator.Validate(MutualTlsVault(exposure, caSecret, subjects)));

    [Fact]
    public void Validate_ClientCertificateWithDefaultExposure_IsTheIngressProblem()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Tls!.ClientCertificate = new V1Alpha1VaultClientCertificate
        {
            CaSecretRef = new V1Alpha1CaSecretReference { Name = "kms-ca" },
            AllowedSubjects = ["cks.kms.us-east-1.amazonaws.com"],
        });

        Assert.StartsWith("spec.tls.clientCertificate: only applies to spec.exposure.type LoadBalancer", Single(vault), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BackendIssuerRefWithLoadBalancer_IsAProblem()
    {
        var vault = ResourceTestSupport.MinimalVault(s =>
        {
            s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer };
            s.Tls!.BackendIssuerRef = new V1Alpha1IssuerReference { Name = "platform-ca" };
        });

        Assert.Equal(
            "spec.tls.backendIssuerRef: only applies to spec.exposure.type Ingress (backend TLS between the Ingress and the proxy); with a LoadBalancer the proxy already serves the public certificate itself. Remove it or change the type.",
            Single(vault));
    }

    [Fact]
    public void Validate_BackendIssuerRefWithoutName_IsAProblem() =>
        Assert.Equal(
            "spec.tls.backendIssuerRef.name: required.",
            Single(ResourceTestSupport.MinimalVault(s => s.Tls!.BackendIssuerRef = new V1Alpha1IssuerReference())));

    [Fact]
    public void Validate_BackendTlsSample_HasNoProblems() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.LoadVault("ingress-backend-tls")));

    [Fact]
    public void Validate_NetworkPolicyPeers_NameTheListAndIndexOfEachBadPeer()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.NetworkPolicy = new V1Alpha1VaultNetworkPolicy
        {
            ApiFrom = [VaultNetworkPolicyDefaults.NamespaceNamed("edge"), new V1NetworkPolicyPeer()],
            MetricsFrom = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8", Except = ["10.1.0.0"] } }],
        });

        Assert.Equal(
            [
                "spec.networkPolicy.apiFrom[1]: names no source: set podSelector, namespaceSelector or ipBlock.",
                "spec.networkPolicy.metricsFrom[0]: has ipBlock.except '10.1.0.0', which is not a CIDR such as 10.1.0.0/16.",
            ],
            VaultSpecValidator.Validate(vault));
    }

    [Fact]
    public void Validate_NetworkPolicyEmptyListsAndDisabled_AreValid() =>
        Assert.Empty(VaultSpecValidator.Validate(ResourceTestSupport.MinimalVault(s =>
            s.NetworkPolicy = new V1Alpha1VaultNetworkPolicy { Enabled = false, ApiFrom = [], MetricsFrom = [] })));

    [Fact]
    public void Validate_BlankImage_IsAProblem() =>
        Assert.StartsWith("spec.proxy.image: ", Single(ResourceTestSupport.MinimalVault(s => s.Proxy.Image = " ")), StringComparison.Ordinal);

    [Fact]
    public void Validate_SeveralProblems_AreAllReported()
    {
        var vault = ResourceTestSupport.MinimalVault(s =>
        {
            s.Replicas = 1;
            s.Tls = null;
            s.Hostname = "bad:1";
        });

        Assert.Equal(3, VaultSpecValidator.Validate(vault).Count);
    }

    [Theory]
    [InlineData("2160h", 2160 * 60 * 60)]
    [InlineData("1h30m", 90 * 60)]
    [InlineData("1.5h", 90 * 60)]
    [InlineData("90s", 90)]
    [InlineData("500ms", 0.5)]
    public void TryParseGoDuration_GoSyntax_Parses(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), VaultSpecValidator.TryParseGoDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("-1h")]
    [InlineData("1d")]
    [InlineData("h")]
    [InlineData("1h 30m")]
    public void TryParseGoDuration_NotGoSyntax_IsNull(string text) => Assert.Null(VaultSpecValidator.TryParseGoDuration(text));
}
