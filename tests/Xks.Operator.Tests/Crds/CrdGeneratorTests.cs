using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Testing;

namespace Xks.Operator.Crds.Tests;

public class CrdGeneratorTests
{
    private const string RegenerateVariable = "XKS_REGENERATE_CRDS";

    private static readonly IReadOnlyList<GeneratedCrd> Generated = CrdGenerator.Generate();

    private static string CommittedDirectory => Path.Combine(LocalCluster.RepositoryRoot, "config", "crd", "bases");

    /// <summary>
    /// config/crd/bases is generated from the entity classes. Set XKS_REGENERATE_CRDS=1 to rewrite the files instead of
    /// comparing (that is what <c>make manifests</c> does through <c>xks-operator crds</c>).
    /// </summary>
    [Fact]
    public void CrdGenerator_Output_MatchesCommittedFiles()
    {
        if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1")
        {
            CrdGenerator.WriteAll(CommittedDirectory);
        }

        var stale = new List<string>();
        foreach (var crd in Generated)
        {
            var path = Path.Combine(CommittedDirectory, crd.FileName);
            if (!File.Exists(path) || File.ReadAllText(path) != crd.Yaml)
            {
                stale.Add(crd.FileName);
            }
        }

        var extra = Directory.Exists(CommittedDirectory)
            ? Directory.GetFiles(CommittedDirectory, "xks.dev_*.yaml").Select(Path.GetFileName).Except(Generated.Select(c => c.FileName)).ToList()
            : [];
        Assert.True(
            stale.Count == 0 && extra.Count == 0,
            $"config/crd/bases is stale (differs: {string.Join(", ", stale)}; not generated: {string.Join(", ", extra)}). " +
            $"Regenerate with `make manifests` (or {RegenerateVariable}=1 dotnet test tests/Xks.Operator.Tests --filter CrdGenerator_Output_MatchesCommittedFiles) and commit.");
    }

    [Fact]
    public void Generate_TwoRuns_ProduceIdenticalText()
    {
        Assert.Equal(Generated, CrdGenerator.Generate());
    }

    [Fact]
    public void Generate_FiveEntities_NamedAfterGroupAndPlural()
    {
        Assert.Equal(
            ["xks.dev_vaults.yaml", "xks.dev_cspaccounts.yaml", "xks.dev_clustercspaccounts.yaml", "xks.dev_keysets.yaml", "xks.dev_cloudkeys.yaml"],
            Generated.Select(c => c.FileName));
    }

    [Theory]
    [InlineData("Vault", "vaults", "xv", "Namespaced")]
    [InlineData("CspAccount", "cspaccounts", "csp", "Namespaced")]
    [InlineData("ClusterCspAccount", "clustercspaccounts", "ccsp", "Cluster")]
    [InlineData("KeySet", "keysets", "ks", "Namespaced")]
    [InlineData("CloudKey", "cloudkeys", "ck", "Namespaced")]
    public void Generate_Names_KindPluralShortNameScopeAndCategory(string kind, string plural, string shortName, string scope)
    {
        var crd = Crd(plural);

        Assert.Equal($"{plural}.xks.dev", crd.Metadata.Name);
        Assert.Equal("xks.dev", crd.Spec.Group);
        Assert.Equal(scope, crd.Spec.Scope);
        Assert.Equal(kind, crd.Spec.Names.Kind);
        Assert.Equal(kind + "List", crd.Spec.Names.ListKind);
        Assert.Equal(kind.ToLowerInvariant(), crd.Spec.Names.Singular);
        Assert.Equal([shortName], crd.Spec.Names.ShortNames);
        Assert.Equal(["xks"], crd.Spec.Names.Categories);
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal("v1alpha1", version.Name);
        Assert.True(version.Served);
        Assert.True(version.Storage);
        Assert.NotNull(version.Subresources.Status);
        Assert.Equal(["spec"], version.Schema.OpenAPIV3Schema.Required);
    }

    [Theory]
    [InlineData("vaults", "Hostname,Ready,Replicas,Endpoint,Reason,Age")]
    [InlineData("cspaccounts", "Region,Account,Ready,Reason,Age")]
    [InlineData("clustercspaccounts", "Region,Account,Ready,Reason,Age")]
    [InlineData("keysets", "Vault,KeyStore,State,Ready,Reason,Age")]
    [InlineData("cloudkeys", "Alias,Enabled,KeyId,State,Ready,Reason,ARN,Version,Next Rotation,Age")]
    public void Generate_PrinterColumns_InOrderWithReadyFromConditions(string plural, string names)
    {
        var columns = Crd(plural).Spec.Versions[0].AdditionalPrinterColumns;

        Assert.Equal(names.Split(','), columns.Select(c => c.Name));
        Assert.Equal(".status.conditions[?(@.type==\"Ready\")].status", columns.Single(c => c.Name == "Ready").JsonPath);
        Assert.Equal(("date", ".metadata.creationTimestamp"), columns.Single(c => c.Name == "Age") is var age ? (age.Type, age.JsonPath) : default);
    }

    [Theory]
    [InlineData("vaults", "Endpoint,Reason")]
    [InlineData("cspaccounts", "Reason")]
    [InlineData("clustercspaccounts", "Reason")]
    [InlineData("keysets", "Reason")]
    [InlineData("cloudkeys", "Reason,ARN,Version,Next Rotation")]
    public void Generate_WideColumns_OnlyInWideOutput(string plural, string wide)
    {
        var columns = Crd(plural).Spec.Versions[0].AdditionalPrinterColumns;

        Assert.Equal(wide.Split(','), columns.Where(c => c.Priority == 1).Select(c => c.Name));
        Assert.All(columns.Where(c => c.Priority != 1), c => Assert.True(c.Priority is null or 0, c.Name));
    }

    [Theory]
    [MemberData(nameof(Plurals))]
    public void Generate_ReasonColumn_IsTheReadyConditionsReason(string plural)
    {
        var reason = Crd(plural).Spec.Versions[0].AdditionalPrinterColumns.Single(c => c.Name == "Reason");

        Assert.Equal(("string", ".status.conditions[?(@.type==\"Ready\")].reason"), (reason.Type, reason.JsonPath));
    }

    [Fact]
    public void Generate_CloudKeyArnColumn_IsTheStatusArn()
    {
        var arn = Crd("cloudkeys").Spec.Versions[0].AdditionalPrinterColumns.Single(c => c.Name == "ARN");

        Assert.Equal(("string", ".status.arn"), (arn.Type, arn.JsonPath));
    }

    [Theory]
    [InlineData("Version", ".status.currentVersion")]
    [InlineData("Next Rotation", ".status.nextRotationTime")]
    public void Generate_CloudKeyRotationColumns_AreStrings(string name, string jsonPath)
    {
        var column = Crd("cloudkeys").Spec.Versions[0].AdditionalPrinterColumns.Single(c => c.Name == name);

        Assert.Equal(("string", jsonPath), (column.Type, column.JsonPath));
    }

    public static TheoryData<string> Plurals() => ["vaults", "cspaccounts", "clustercspaccounts", "keysets", "cloudkeys"];

    [Theory]
    [MemberData(nameof(Plurals))]
    public void Generate_EveryField_HasADescriptionAndAType(string plural)
    {
        var root = Crd(plural).Spec.Versions[0].Schema.OpenAPIV3Schema;
        var missing = new List<string>();

        Walk(root, plural, (path, schema) =>
        {
            if (string.IsNullOrWhiteSpace(schema.Type))
            {
                missing.Add(path + " (type)");
            }

            var isItemOrMapValue = path.EndsWith("[]", StringComparison.Ordinal) || path.EndsWith("{}", StringComparison.Ordinal);
            if (path != $"{plural}.metadata" && !isItemOrMapValue && string.IsNullOrWhiteSpace(schema.Description))
            {
                missing.Add(path + " (description)");
            }
        });

        Assert.Empty(missing);
    }

    [Theory]
    [MemberData(nameof(Plurals))]
    public void Generate_Schema_StructuralAndWithoutCel(string plural)
    {
        var yaml = Generated.Single(c => c.FileName == $"xks.dev_{plural}.yaml").Yaml;

        Assert.DoesNotContain("x-kubernetes-validations", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("x-kubernetes-int-or-string", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", yaml, StringComparison.Ordinal);
        Assert.StartsWith("---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n", yaml, StringComparison.Ordinal);
        Walk(Crd(plural).Spec.Versions[0].Schema.OpenAPIV3Schema, plural, (path, schema) =>
        {
            Assert.False(schema.Type == "object" && schema.Properties is null && schema.AdditionalProperties is null
                && schema.XKubernetesPreserveUnknownFields != true && path != $"{plural}.metadata",
                $"{path}: an object without properties would prune everything");
            Assert.False(schema.DefaultProperty is not null && schema.Nullable == true, $"{path}: nullable with a default");
        });
    }

    [Theory]
    [MemberData(nameof(Plurals))]
    public void Generate_Conditions_ListMapKeyedByTypeWithMetav1Validation(string plural)
    {
        var status = Crd(plural).Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"];
        var conditions = status.Properties["conditions"];

        Assert.Equal("array", conditions.Type);
        Assert.Equal("map", conditions.XKubernetesListType);
        Assert.Equal(["type"], conditions.XKubernetesListMapKeys);
        var item = Sub(conditions.Items)!;
        Assert.Equal(["lastTransitionTime", "reason", "status", "type"], item.Required);
        Assert.Equal(["True", "False", "Unknown"], item.Properties["status"].EnumProperty.Select(e => e.ToString()));
        Assert.Equal("date-time", item.Properties["lastTransitionTime"].Format);
        Assert.NotNull(item.Properties["reason"].Pattern);
        Assert.Equal("integer", status.Properties["observedGeneration"].Type);
    }

    [Fact]
    public void Generate_VaultSpec_ConstraintsAndDefaultsFromTheContract()
    {
        var spec = Crd("vaults").Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];

        Assert.Equal(["hostname"], spec.Required);
        var replicas = spec.Properties["replicas"];
        Assert.Equal(("integer", 1d, 50d, "2"), (replicas.Type, replicas.Minimum, replicas.Maximum, replicas.DefaultProperty?.ToString()));
        Assert.Equal("false", spec.Properties["allowSingleReplica"].DefaultProperty?.ToString()?.ToLowerInvariant());
        Assert.Equal(253, spec.Properties["hostname"].MaxLength);
        Assert.Equal(Patterns.Hostname, spec.Properties["hostname"].Pattern);

        var exposure = spec.Properties["exposure"];
        Assert.NotNull(exposure.DefaultProperty);
        Assert.Equal(["Ingress", "LoadBalancer"], Enum(exposure.Properties["type"]));
        Assert.Equal("Ingress", exposure.Properties["type"].DefaultProperty?.ToString());
        Assert.Equal("string", Sub(exposure.Properties["ingress"].Properties["annotations"].AdditionalProperties)?.Type);

        var backend = spec.Properties["keyBackend"];
        Assert.NotNull(backend.DefaultProperty);
        Assert.Equal(["Software", "Pkcs11"], Enum(backend.Properties["type"]));
        Assert.Equal("pin", backend.Properties["pkcs11"].Properties["pinSecretRef"].Properties["key"].DefaultProperty?.ToString());

        var issuerRef = spec.Properties["tls"].Properties["issuerRef"];
        Assert.Equal(["name"], issuerRef.Required);
        Assert.Equal("Issuer", issuerRef.Properties["kind"].DefaultProperty?.ToString());
        Assert.Equal("cert-manager.io", issuerRef.Properties["group"].DefaultProperty?.ToString());

        var proxy = spec.Properties["proxy"];
        Assert.Equal(["Always", "IfNotPresent", "Never"], Enum(proxy.Properties["imagePullPolicy"]));
        Assert.Equal(["Trace", "Debug", "Information", "Warning", "Error"], Enum(proxy.Properties["logLevel"]));
        Assert.Equal("Information", proxy.Properties["logLevel"].DefaultProperty?.ToString());
        Assert.True(proxy.Properties["resources"].XKubernetesPreserveUnknownFields);
        Assert.True(proxy.Properties["affinity"].XKubernetesPreserveUnknownFields);
        Assert.True(Sub(proxy.Properties["tolerations"].Items)!.XKubernetesPreserveUnknownFields);
        Assert.Null(proxy.Properties["image"].DefaultProperty);
    }

    [Fact]
    public void Generate_OtherSpecs_ConstraintsFromTheContract()
    {
        var csp = Crd("cspaccounts").Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.Equal(["region"], csp.Required);
        Assert.Equal(Patterns.AwsRegion, csp.Properties["region"].Pattern);
        Assert.Equal(["Secret", "Default"], Enum(csp.Properties["credentials"].Properties["source"]));
        Assert.Equal("Secret", csp.Properties["credentials"].Properties["source"].DefaultProperty?.ToString());
        Assert.Equal(Patterns.IamRoleArn, csp.Properties["assumeRole"].Properties["roleArn"].Pattern);

        var keySet = Crd("keysets").Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.Equal(["cspAccountRef", "vaultRef"], keySet.Required);
        Assert.Equal((1L, 256L), (keySet.Properties["externalKeyStore"].Properties["name"].MinLength, keySet.Properties["externalKeyStore"].Properties["name"].MaxLength));
        Assert.Equal(["PublicEndpoint", "VpcEndpointService"], Enum(keySet.Properties["externalKeyStore"].Properties["connectivity"]));
        Assert.Equal(64, keySet.Properties["uriPathPrefix"].MaxLength);
        Assert.Equal(["Retain", "Delete"], Enum(keySet.Properties["deletionPolicy"]));
        Assert.Equal("Retain", keySet.Properties["deletionPolicy"].DefaultProperty?.ToString());

        var key = Crd("cloudkeys").Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.Equal(["keySetRef"], key.Required);
        Assert.Equal(250, key.Properties["alias"].MaxLength);
        Assert.Equal(8192, key.Properties["description"].MaxLength);
        Assert.Equal("true", key.Properties["enabled"].DefaultProperty?.ToString()?.ToLowerInvariant());
        Assert.Equal((7d, 30d, "30"), (key.Properties["pendingWindowDays"].Minimum, key.Properties["pendingWindowDays"].Maximum, key.Properties["pendingWindowDays"].DefaultProperty?.ToString()));
        Assert.Equal(["Disable", "ScheduleDeletion"], Enum(key.Properties["expiration"].Properties["action"]));
        Assert.Equal("date-time", key.Properties["expiration"].Properties["at"].Format);
    }

    [Theory]
    [InlineData("kms.example.com", true)]
    [InlineData("xks.example.com", true)]
    [InlineData("a-b.c-d.example.co.uk", true)]
    [InlineData("xks.internal", true)]
    [InlineData("kms.example.com:443", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("KMS.example.com", false)]
    [InlineData("kms.example.com.", false)]
    [InlineData("localhost", false)]
    [InlineData("https://kms.example.com", false)]
    [InlineData("-kms.example.com", false)]
    [InlineData("kms_x.example.com", false)]
    public void HostnamePattern_Candidates_AcceptsOnlyLowercaseFqdnWithoutPortOrIp(string hostname, bool valid)
    {
        var pattern = Crd("vaults").Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["hostname"].Pattern;

        Assert.Equal(valid, Regex.IsMatch(hostname, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(Patterns.AwsRegion, "eu-west-1", true)]
    [InlineData(Patterns.AwsRegion, "us-gov-east-1", true)]
    [InlineData(Patterns.AwsRegion, "eu-west", false)]
    [InlineData(Patterns.AwsRegion, "EU-WEST-1", false)]
    [InlineData(Patterns.IamRoleArn, "arn:aws:iam::111122223333:role/xks-operator", true)]
    [InlineData(Patterns.IamRoleArn, "arn:aws-us-gov:iam::111122223333:role/a/b", true)]
    [InlineData(Patterns.IamRoleArn, "arn:aws:iam::1111:role/x", false)]
    [InlineData(Patterns.IamRoleArn, "arn:aws:iam::111122223333:user/x", false)]
    [InlineData(Patterns.UriPathPrefix, "", true)]
    [InlineData(Patterns.UriPathPrefix, "/team-a/payments", true)]
    [InlineData(Patterns.UriPathPrefix, "/team a", false)]
    [InlineData(Patterns.UriPathPrefix, "team-a", false)]
    [InlineData(Patterns.UriPathPrefix, "/a/", false)]
    [InlineData(Patterns.KmsAlias, "payments/db_key-1", true)]
    [InlineData(Patterns.KmsAlias, "alias:x", false)]
    [InlineData(Patterns.KmsAlias, "", true)]
    [InlineData(Patterns.Duration, "2160h", true)]
    [InlineData(Patterns.Duration, "1h30m", true)]
    [InlineData(Patterns.Duration, "1.5h", true)]
    [InlineData(Patterns.Duration, "90d", false)]
    [InlineData(Patterns.Duration, "h", false)]
    public void Patterns_Candidates_MatchAsDocumented(string pattern, string value, bool valid)
    {
        Assert.Equal(valid, Regex.IsMatch(value, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)));
    }

    /// <summary>Kubernetes evaluates patterns with Go's RE2: no lookaround, backreferences, possessive or atomic groups.</summary>
    [Theory]
    [MemberData(nameof(Plurals))]
    public void Generate_Patterns_Re2Compatible(string plural)
    {
        var patterns = new List<(string Path, string Pattern)>();
        Walk(Crd(plural).Spec.Versions[0].Schema.OpenAPIV3Schema, plural, (path, schema) =>
        {
            if (schema.Pattern is not null)
            {
                patterns.Add((path, schema.Pattern));
            }
        });

        Assert.NotEmpty(patterns);
        foreach (var (path, pattern) in patterns)
        {
            Assert.False(Regex.IsMatch(pattern, @"\(\?[=!<>]|\\[1-9]|\\k<|[*+?}]\+|\(\?>"), $"{path}: '{pattern}' is not RE2");
            Assert.StartsWith("^", pattern, StringComparison.Ordinal);
            Assert.EndsWith("$", pattern, StringComparison.Ordinal);
            _ = new Regex(pattern);
        }
    }

    private static List<string> Enum(V1JSONSchemaProps schema) => [.. schema.EnumProperty.Select(e => e.ToString()!)];

    private static V1CustomResourceDefinition Crd(string plural) =>
        KubernetesYaml.Deserialize<V1CustomResourceDefinition>(Generated.Single(c => c.FileName == $"xks.dev_{plural}.yaml").Yaml);

    /// <summary>items and additionalProperties are untyped in the model (they may be a bool or a list); read them as a schema.</summary>
    private static V1JSONSchemaProps? Sub(object? node) => node switch
    {
        null => null,
        V1JSONSchemaProps schema => schema,
        _ => KubernetesYaml.Deserialize<V1JSONSchemaProps>(KubernetesYaml.Serialize(node)),
    };

    private static void Walk(V1JSONSchemaProps schema, string path, Action<string, V1JSONSchemaProps> visit)
    {
        visit(path, schema);
        foreach (var (name, child) in schema.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
        {
            Walk(child, $"{path}.{name}", visit);
        }

        if (Sub(schema.Items) is { } items)
        {
            Walk(items, path + "[]", visit);
        }

        if (Sub(schema.AdditionalProperties) is { } values)
        {
            Walk(values, path + "{}", visit);
        }
    }
}
