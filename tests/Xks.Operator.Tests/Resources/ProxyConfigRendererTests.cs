using Xks.Contracts.ProxyConfig;
using Xks.Operator.Entities;
using Xks.Proxy.Options;

namespace Xks.Operator.Resources.Tests;

public sealed class ProxyConfigRendererTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xks-render-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly ProxyCredentialModel CredentialA = new("AAAAAAAAAAAAAAAAAAAAAAAAAA", "=PleaseReplaceThisWithSomeSecretOfLength43To64");
    private static readonly ProxyCredentialModel CredentialB = new("BBBBBBBBBBBBBBBBBBBBBBBBB2", "/+PleaseReplaceThisWithSomeSecretOfLength43To6");

    private static readonly ProxyCredentialModel CredentialC = new("CCCCCCCCCCCCCCCCCCCCCCCCCC", "PleaseReplaceThisWithSomeSecretOfLength43To64c");
    private static readonly ProxyCredentialModel CredentialD = new("DDDDDDDDDDDDDDDDDDDDDDDDD7", "PleaseReplaceThisWithSomeSecretOfLength43To64d");

    // Access key ids must be unique across the proxy: store-a gets A and B, any other store C and D.
    private static ProxyKeyStoreModel Store(string name, bool blocked = false) => new(
        name,
        $"/team-a/{name}",
        name == "store-a" ? [CredentialB, CredentialA] : [CredentialD, CredentialC],
        [
            new ProxyKeyModel($"{name}-k2", ["DECRYPT", "ENCRYPT"]),
            new ProxyKeyModel($"{name}-k1", ["ENCRYPT"], Enabled: false,
                new ProxyKeyAuthorizationModel(["arn:aws:iam::111122223333:role/b", "arn:aws:iam::111122223333:role/*"], ["s3.us-east-1.amazonaws.com"], [], ["vpce-1"])),
        ],
        blocked);

    /// <summary>Loads the rendered text with the proxy's own loader in cluster mode, the pod's files placed under a temp root.</summary>
    private ConfigurationLoadResult LoadWithProxy(string yaml)
    {
        var run = Path.Combine(_root, "run");
        Directory.CreateDirectory(Path.Combine(run, "master-key"));
        Directory.CreateDirectory(Path.Combine(run, "tls"));
        Directory.CreateDirectory(Path.Combine(run, "client-ca"));
        File.WriteAllText(Path.Combine(run, "client-ca", ProxyLayout.ClientCaKey), "");
        File.WriteAllBytes(Path.Combine(run, "master-key", ProxyLayout.MasterKeyKey), new byte[ProxyLayout.MasterKeyLength]);
        File.WriteAllText(Path.Combine(run, "tls", "tls.crt"), "");
        File.WriteAllText(Path.Combine(run, "tls", "tls.key"), "");
        var relocated = yaml
            .Replace("/var/run/xks/", run + "/", StringComparison.Ordinal)
            .Replace(ProxyLayout.DataDirectory, Path.Combine(_root, "data"), StringComparison.Ordinal);
        Assert.DoesNotContain("/var/", relocated, StringComparison.Ordinal);
        return ProxyConfigurationLoader.LoadText(relocated, _root, mode: ConfigurationMode.Cluster);
    }

    [Theory]
    [InlineData("ingress-issuer", 8080, false)]
    [InlineData("loadbalancer-secret", 8443, true)]
    [InlineData("ingress-backend-tls", 8443, true)]
    public void Render_VaultWithoutKeyStores_IsAcceptedByTheProxyInClusterMode(string sample, int port, bool tls)
    {
        var vault = ResourceTestSupport.LoadVault(sample);

        var result = LoadWithProxy(ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault)));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var options = result.Configuration!.Options;
        Assert.Equal("0.0.0.0", options.Server.Address);
        Assert.Equal(port, options.Server.Port);
        Assert.Equal(ProxyLayout.MetricsPort, options.Server.MetricsPort);
        Assert.Equal(tls, options.Server.Tls is not null);
        Assert.Equal(vault.Spec.Replicas, options.Health.FleetSize);
        Assert.Empty(options.KeyStores);
        Assert.False(options.Backend.Software!.CreateMissingKeys);
        Assert.EndsWith("/master-key/master.key", options.Backend.Software.MasterKeyFile, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_LoadBalancerVaultWithClientCertificate_IsLoadedByTheProxyWithTheMountedCaAndSortedSubjects()
    {
        var vault = ResourceTestSupport.LoadVault("loadbalancer-secret");

        var result = LoadWithProxy(ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault)));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var mtls = result.Configuration!.Options.Server.Tls!.ClientCertificate!;
        Assert.EndsWith("/client-ca/ca.crt", mtls.CaFile, StringComparison.Ordinal);
        Assert.Equal(["cks.kms.eu-west-1.amazonaws.com", "cks.kms.us-east-1.amazonaws.com"], mtls.AllowedSubjects);
    }

    [Fact]
    public void Render_ClientCertificate_IsAStartupSettingThatRollsThePods()
    {
        var vault = ResourceTestSupport.LoadVault("loadbalancer-secret");
        var before = ProxyConfigRenderer.StartupConfigHash(ProxyConfigModel.ForVault(vault));

        vault.Spec.Tls!.ClientCertificate!.AllowedSubjects = ["cks.kms.us-west-2.amazonaws.com"];

        Assert.NotEqual(before, ProxyConfigRenderer.StartupConfigHash(ProxyConfigModel.ForVault(vault)));
    }

    [Fact]
    public void Render_ClientCertificateOnAnIngressVault_IsNeverRendered()
    {
        // The validator refuses the combination; the renderer never asks an HTTP listener for client certificates.
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        vault.Spec.Tls!.ClientCertificate = new V1Alpha1VaultClientCertificate
        {
            CaSecretRef = new V1Alpha1CaSecretReference { Name = "ca" },
            AllowedSubjects = ["cks.kms.us-east-1.amazonaws.com"],
        };

        var model = ProxyConfigModel.ForVault(vault);

        Assert.Empty(model.ClientCertificateSubjects);
        Assert.Null(ProxyConfigRenderer.ToOptions(model).Server.Tls);
    }

    [Fact]
    public void Render_VaultWithoutKeyStores_IsRejectedInStandaloneMode()
    {
        // Guards the test above: the loader really validates (standalone needs a key store).
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault));

        var result = ProxyConfigurationLoader.LoadText(yaml, _root, mode: ConfigurationMode.Standalone);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.StartsWith("keyStores", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_KeyStores_AreServedByTheProxyAsGiven()
    {
        var vault = ResourceTestSupport.LoadVault("loadbalancer-secret");
        var model = ProxyConfigModel.ForVault(vault, [Store("store-b", blocked: true), Store("store-a")], ["us-east-1", "eu-west-1"]);

        var result = LoadWithProxy(ProxyConfigRenderer.Render(model));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var options = result.Configuration!.Options;
        Assert.Equal(["eu-west-1", "us-east-1"], options.Regions);
        Assert.Equal(["store-a", "store-b"], options.KeyStores.Select(s => s.Name));
        Assert.False(options.KeyStores[0].Blocked);
        Assert.Equal([CredentialA.AccessKeyId, CredentialB.AccessKeyId], options.KeyStores[0].Credentials.Select(c => c.AccessKeyId));
        Assert.Equal([CredentialA.SecretAccessKey, CredentialB.SecretAccessKey], options.KeyStores[0].Credentials.Select(c => c.SecretAccessKey));
        var storeB = options.KeyStores[1];
        Assert.True(storeB.Blocked);
        Assert.Equal("/team-a/store-b", storeB.UriPathPrefix);
        Assert.Equal([CredentialC.AccessKeyId, CredentialD.AccessKeyId], storeB.Credentials.Select(c => c.AccessKeyId));
        Assert.Equal(["store-b-k1", "store-b-k2"], storeB.Keys.Select(k => k.Id));
        var k1 = storeB.Keys[0];
        Assert.False(k1.Enabled);
        Assert.Equal(["ENCRYPT"], k1.Usage);
        Assert.Equal(["arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/b"], k1.Authorization!.Principals);
        Assert.Equal(["s3.us-east-1.amazonaws.com"], k1.Authorization.ViaServices);
        Assert.Empty(k1.Authorization.SourceVpcs);
        Assert.Equal(["vpce-1"], k1.Authorization.SourceVpces);
        Assert.Equal(["ENCRYPT", "DECRYPT"], storeB.Keys[1].Usage);
        Assert.Null(storeB.Keys[1].Authorization);
    }

    [Fact]
    public void Render_InvalidKeyStore_IsReportedByTheProxyValidator()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        var bad = new ProxyKeyStoreModel("Bad Name", "/p", [new ProxyCredentialModel("short", "x")], []);

        var result = LoadWithProxy(ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault, [bad])));

        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.StartsWith("keyStores[0].name", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.StartsWith("keyStores[0].credentials[0]", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_ListsInAnyOrder_GiveTheSameBytes()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        var reversed = new ProxyKeyStoreModel(
            "store-a", "/team-a/store-a", [CredentialA, CredentialB],
            [.. Store("store-a").Keys.Reverse().Select(k => k with { Usage = [.. k.Usage.Reverse()] })]);

        var first = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault, [Store("store-a"), Store("store-b")], ["us-east-1", "eu-west-1"]));
        var second = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault, [Store("store-b"), reversed], ["eu-west-1", "us-east-1", "eu-west-1"]));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Render_Output_HasLfLineEndingsAndAHeaderNamingTheVault()
    {
        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(ResourceTestSupport.LoadVault("ingress-issuer")));

        Assert.DoesNotContain('\r', yaml);
        Assert.StartsWith("# Proxy config of Vault team-a/payments", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigHash_KeyStoreChange_ChangesButStartupHashDoesNot()
    {
        var vault = ResourceTestSupport.LoadVault("ingress-issuer");
        var empty = ProxyConfigModel.ForVault(vault);
        var withStore = ProxyConfigModel.ForVault(vault, [Store("store-a")]);
        var blocked = ProxyConfigModel.ForVault(vault, [Store("store-a", blocked: true)]);

        Assert.NotEqual(ProxyConfigRenderer.ConfigHash(empty), ProxyConfigRenderer.ConfigHash(withStore));
        Assert.NotEqual(ProxyConfigRenderer.ConfigHash(withStore), ProxyConfigRenderer.ConfigHash(blocked));
        Assert.Equal(ProxyConfigRenderer.StartupConfigHash(empty), ProxyConfigRenderer.StartupConfigHash(withStore));
        Assert.Equal(ProxyConfigRenderer.StartupConfigHash(empty), ProxyConfigRenderer.StartupConfigHash(blocked));
        Assert.Equal(ProxyConfigRenderer.StartupConfigHash(empty), ProxyConfigRenderer.StartupConfigHash(empty with { FleetSize = 7 }));
    }

    [Fact]
    public void StartupConfigHash_ExposureChange_Changes()
    {
        var ingress = ResourceTestSupport.MinimalVault();
        var loadBalancer = ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer });

        Assert.NotEqual(
            ProxyConfigRenderer.StartupConfigHash(ProxyConfigModel.ForVault(ingress)),
            ProxyConfigRenderer.StartupConfigHash(ProxyConfigModel.ForVault(loadBalancer)));
    }

    [Fact]
    public void Hash_Text_Is16LowercaseHexOfSha256()
    {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        Assert.Equal("ba7816bf8f01cfea", ProxyConfigRenderer.Hash("abc"));
    }

    [Fact]
    public void Render_KeyVersions_AreWrittenSortedInTheContractsShape_AndLoadedByTheProxy()
    {
        var created = new DateTimeOffset(2026, 11, 28, 20, 0, 0, TimeSpan.FromHours(1));
        var v1 = new ProxyKeyVersionModel(1, Convert.ToBase64String(Enumerable.Range(0, 60).Select(i => (byte)i).ToArray()), created);
        var v2 = new ProxyKeyVersionModel(2, Convert.ToBase64String(Enumerable.Range(60, 60).Select(i => (byte)i).ToArray()), created.AddDays(1));
        var store = new ProxyKeyStoreModel("team-a-payments", "/payments", [CredentialA], [new ProxyKeyModel("team-a-payments-db-2f1c", ["ENCRYPT", "DECRYPT"]) { Versions = [v2, v1] }]);

        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(ResourceTestSupport.MinimalVault(), [store]));

        Assert.Contains(
            $"""
                  keys:
                  - id: team-a-payments-db-2f1c
                    usage:
                    - ENCRYPT
                    - DECRYPT
                    enabled: true
                    versions:
                    - version: 1
                      wrappedMaterial: {v1.WrappedMaterial}
                      createdAt: 2026-11-28T19:00:00Z
                    - version: 2
                      wrappedMaterial: {v2.WrappedMaterial}
                      createdAt: 2026-11-29T19:00:00Z

                """,
            yaml,
            StringComparison.Ordinal);
        var result = LoadWithProxy(yaml);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var versions = result.Configuration!.Options.KeyStores[0].Keys[0].Versions;
        Assert.Equal([(1, v1.WrappedMaterial!, (DateTimeOffset?)created), (2, v2.WrappedMaterial!, created.AddDays(1))], versions.Select(v => (v.Version, v.WrappedMaterial, v.CreatedAt)));
    }

    [Fact]
    public void Validate_RenderableModel_HasNoProblem()
    {
        Assert.Empty(ProxyConfigRenderer.Validate(ProxyConfigModel.ForVault(ResourceTestSupport.MinimalVault(), [Store("store-a"), Store("store-b")])));
    }

    [Fact]
    public void Validate_ConfigTheProxyWouldRefuse_NamesEveryProblemAndNoSecret()
    {
        var badKey = new ProxyKeyModel("no spaces allowed", ["ENCRYPT"]);
        var store = new ProxyKeyStoreModel("store-a", "/team-a/store-a", [CredentialA], [badKey]);
        var twin = new ProxyKeyStoreModel("store-b", "/team-a/store-a", [CredentialA], []);

        var problems = ProxyConfigRenderer.Validate(ProxyConfigModel.ForVault(ResourceTestSupport.MinimalVault(), [store, twin], ["not a region"]));

        Assert.Contains(problems, p => p.Contains("'no spaces allowed'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("regions[0]", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("/team-a/store-a", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains(CredentialA.AccessKeyId, StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain(CredentialA.SecretAccessKey, p, StringComparison.Ordinal));
    }

    [Fact]
    public void Render_KeyWithoutVersions_ProxyReadsNoInlineVersions()
    {
        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(ResourceTestSupport.MinimalVault(), [Store("store-a")]));

        Assert.Contains("  versions: []\n", yaml, StringComparison.Ordinal);
        var result = LoadWithProxy(yaml);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.All(result.Configuration!.Options.KeyStores[0].Keys, key => Assert.Empty(key.Versions));
    }

    [Fact]
    public void ConfigHash_NewKeyVersion_ChangesButStartupHashDoesNot()
    {
        var vault = ResourceTestSupport.MinimalVault();
        var v1 = new ProxyKeyVersionModel(1, Convert.ToBase64String(new byte[60]), DateTimeOffset.UnixEpoch);
        var v2 = v1 with { Version = 2 };
        ProxyConfigModel Model(params ProxyKeyVersionModel[] versions) =>
            ProxyConfigModel.ForVault(vault, [new ProxyKeyStoreModel("s", "/s", [CredentialA], [new ProxyKeyModel("k", ["ENCRYPT", "DECRYPT"]) { Versions = versions }])]);

        Assert.NotEqual(ProxyConfigRenderer.ConfigHash(Model(v1)), ProxyConfigRenderer.ConfigHash(Model(v1, v2)));
        Assert.Equal(ProxyConfigRenderer.StartupConfigHash(Model(v1)), ProxyConfigRenderer.StartupConfigHash(Model(v1, v2)));
    }

    [Fact]
    public void CredentialModel_ToString_HidesTheSecret()
    {
        var text = CredentialA.ToString();

        Assert.Contains(CredentialA.AccessKeyId, text, StringComparison.Ordinal);
        Assert.DoesNotContain(CredentialA.SecretAccessKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(CredentialA.SecretAccessKey, Store("s").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Pkcs11Vault_BackendFromTheSpecAndVersionNumbersOnly()
    {
        var vault = ResourceTestSupport.LoadVault("pkcs11-hsm");
        var created = new DateTimeOffset(2026, 11, 28, 19, 0, 0, TimeSpan.Zero);
        var key = new ProxyKeyModel("team-a-payments-db-2f1c", ["ENCRYPT", "DECRYPT"])
        {
            Versions = [ProxyKeyVersionModel.InHsm(2, created.AddDays(1)), ProxyKeyVersionModel.InHsm(1, created)],
        };
        var store = new ProxyKeyStoreModel("payments", "/team-a/payments", [CredentialA], [key]);

        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault, [store]));

        Assert.Contains(
            """
                versions:
                - version: 1
                  createdAt: 2026-11-28T19:00:00Z
                - version: 2
                  createdAt: 2026-11-29T19:00:00Z

            """,
            yaml,
            StringComparison.Ordinal);
        Assert.DoesNotContain("wrappedMaterial", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("software", yaml, StringComparison.Ordinal);
        Assert.EndsWith(
            """
            backend:
              pkcs11:
                library: /opt/cloudhsm/lib/libcloudhsm_pkcs11.so
                tokens:
                - label: hsm1
                - slot: 2
                - label: hsm-dr
                  library: /opt/dr/lib/libpkcs11.so
                pinFile: /var/run/xks/pkcs11-pin/pin
                ivGeneration: HsmWritesIv
                sessionPool:
                  maxSessions: 32
                  waitTimeoutMilliseconds: 250
                healthKeyLabel: xks-proxy-health
                createMissingKeys: false
                recoveryIntervalSeconds: 5

            """,
            yaml,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Pkcs11Defaults_ProxyIvAndEightSessionsWaitingAHundredMilliseconds()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.KeyBackend = new V1Alpha1KeyBackend
        {
            Type = V1Alpha1KeyBackendType.Pkcs11,
            Pkcs11 = new V1Alpha1Pkcs11Backend { Library = "/usr/lib/softhsm/libsofthsm2.so", Slot = 7, PinSecretRef = new V1Alpha1SecretKeyReference { Name = "pin" } },
        });

        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault));

        Assert.Contains("    tokens:\n    - slot: 7\n    pinFile: /var/run/xks/pkcs11-pin/pin\n    ivGeneration: Proxy\n    sessionPool:\n      maxSessions: 8\n      waitTimeoutMilliseconds: 100\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Pkcs11Vault_TheProxyLoadsItAsItsPkcs11Backend()
    {
        // The proxy checks that the libraries exist: stand-ins for the HSM clients of the sample.
        var vault = ResourceTestSupport.LoadVault("pkcs11-hsm");
        var library = Path.Combine(_root, "libhsm.so");
        var other = Path.Combine(_root, "libother.so");
        File.WriteAllText(library, "");
        File.WriteAllText(other, "");
        vault.Spec.KeyBackend.Pkcs11!.Library = library;
        vault.Spec.KeyBackend.Pkcs11.AdditionalTokens![1].Library = other;
        var key = new ProxyKeyModel("team-a-payments-db-2f1c", ["ENCRYPT", "DECRYPT"]) { Versions = [ProxyKeyVersionModel.InHsm(1, DateTimeOffset.UnixEpoch)] };
        var pin = Path.Combine(_root, "run", "pkcs11-pin", ProxyLayout.Pkcs11PinKey);
        Directory.CreateDirectory(Path.GetDirectoryName(pin)!);
        File.WriteAllText(pin, "1234\n");

        var result = LoadWithProxy(ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault, [new ProxyKeyStoreModel("payments", "/team-a/payments", [CredentialA], [key])])));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var options = result.Configuration!.Options;
        Assert.Null(options.Backend.Software);
        var pkcs11 = options.Backend.Pkcs11!;
        Assert.Equal(library, pkcs11.Library);
        Assert.Equal([("hsm1", (ulong?)null, (string?)null), (null, 2, null), ("hsm-dr", null, other)], pkcs11.Tokens.Select(t => (t.Label, t.Slot, t.Library)));
        Assert.Equal(pin, pkcs11.PinFile);
        Assert.Equal(("HsmWritesIv", 32, 250, false), (pkcs11.IvGeneration, pkcs11.SessionPool.MaxSessions, pkcs11.SessionPool.WaitTimeoutMilliseconds, pkcs11.CreateMissingKeys));
        var version = Assert.Single(options.KeyStores[0].Keys[0].Versions);
        Assert.Equal(1, version.Version);
        Assert.True(string.IsNullOrEmpty(version.WrappedMaterial));
    }

    [Fact]
    public void Render_HsmSealedVault_TheProxyLoadsASoftwareBackendSealedByTheTokenWithoutAMasterKey()
    {
        var vault = ResourceTestSupport.LoadVault("hsm-sealed");
        var library = Path.Combine(_root, "libsofthsm2.so");
        File.WriteAllText(library, "");
        vault.Spec.KeyProtection!.Hsm!.Library = library;
        var blob = Convert.ToBase64String(Xks.Contracts.KeyWrap.SealedKey.Compose(1, new byte[Xks.Contracts.KeyWrap.SealedKey.WrappedSize]));
        var key = new ProxyKeyModel("team-a-payments-db-2f1c", ["ENCRYPT", "DECRYPT"]) { Versions = [new ProxyKeyVersionModel(1, blob, DateTimeOffset.UnixEpoch)] };
        var pin = Path.Combine(_root, "run", "pkcs11-pin", ProxyLayout.Pkcs11PinKey);
        Directory.CreateDirectory(Path.GetDirectoryName(pin)!);
        File.WriteAllText(pin, "1234\n");

        var yaml = ProxyConfigRenderer.Render(ProxyConfigModel.ForVault(vault, [new ProxyKeyStoreModel("payments", "/team-a/payments", [CredentialA], [key])]));
        var result = LoadWithProxy(yaml);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.DoesNotContain("masterKeyFile", yaml, StringComparison.Ordinal);
        var options = result.Configuration!.Options;
        Assert.Null(options.Backend.Pkcs11);
        var software = options.Backend.Software!;
        Assert.True(string.IsNullOrEmpty(software.MasterKeyFile));
        Assert.False(software.CreateMissingKeys);
        var sealing = software.Sealing!;
        Assert.Equal(("xks-root/payments/vault-sealed", library, pin), (sealing.RootLabelPrefix, sealing.Library, sealing.PinFile));
        Assert.Equal([("xks-root", (string?)null), ("xks-root-dr", null)], sealing.Tokens.Select(t => (t.Label, t.Library)));
        Assert.Equal(blob, Assert.Single(options.KeyStores[0].Keys[0].Versions).WrappedMaterial);
    }

    [Fact]
    public void Render_ShamirVaultWithItsKeyring_TheProxyLoadsItSealedWithTheKeyringAndNoMasterKey()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir });
        var (keyring, _) = Xks.Contracts.KeyCustody.ShamirCeremony.Initialize(VaultNames.ShamirVaultId(vault), 2, 3);
        var backend = ProxyBackendModel.ForVault(vault);
        var key = new ProxyKeyModel("team-a-payments-db-2f1c", ["ENCRYPT", "DECRYPT"]) { Versions = [new ProxyKeyVersionModel(1, Xks.Contracts.KeyWrap.DerivedKey.CreateBase64(1), DateTimeOffset.UnixEpoch)] };
        var model = ProxyConfigModel.ForVault(vault, [new ProxyKeyStoreModel("payments", "/team-a/payments", [CredentialA], [key])])
            with { Backend = backend with { Shamir = backend.Shamir! with { KeyringJson = keyring.Serialize() } } };

        var yaml = ProxyConfigRenderer.Render(model);
        var result = LoadWithProxy(yaml);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.DoesNotContain("masterKeyFile", yaml, StringComparison.Ordinal);
        var software = result.Configuration!.Options.Backend.Software!;
        Assert.True(string.IsNullOrEmpty(software.MasterKeyFile));
        Assert.Equal(ProxyLayout.AdminPort, software.Shamir!.AdminPort);
        Assert.Equal(keyring.Serialize(), Xks.Contracts.KeyCustody.ShamirKeyring.FromDocument(software.Shamir.Keyring!).Serialize());
    }

    [Fact]
    public void Validate_ShamirVaultWithoutItsKeyring_IsRefusedByTheProxysValidator()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.KeyProtection = new V1Alpha1KeyProtection { Mode = V1Alpha1KeyProtectionMode.Shamir });

        Assert.NotEmpty(ProxyConfigRenderer.Validate(ProxyConfigModel.ForVault(vault)));
    }
}
