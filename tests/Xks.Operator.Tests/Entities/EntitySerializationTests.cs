using System.ComponentModel;
using System.Reflection;
using System.Text.Json.Serialization;
using k8s;
using Xks.Operator.Crds;
using Xks.Operator.Entities.CertManager;
using Xks.Testing;

namespace Xks.Operator.Entities.Tests;

public class EntitySerializationTests
{
    [Fact]
    public void Constructor_Entities_CarryApiVersionAndKind()
    {
        Assert.Equal(("xks.dev/v1alpha1", "Vault"), (new V1Alpha1Vault().ApiVersion, new V1Alpha1Vault().Kind));
        Assert.Equal("CspAccount", new V1Alpha1CspAccount().Kind);
        Assert.Equal("KeySet", new V1Alpha1KeySet().Kind);
        Assert.Equal("CloudKey", new V1Alpha1CloudKey().Kind);
        Assert.Equal(("xks.dev/v1alpha1", "VaultList"), (new V1Alpha1VaultList().ApiVersion, new V1Alpha1VaultList().Kind));
        Assert.Equal(("cert-manager.io/v1", "Certificate"), (new V1Certificate().ApiVersion, new V1Certificate().Kind));
    }

    [Fact]
    public void Deserialize_MinimalVault_AppliesTheSchemaDefaults()
    {
        var vault = KubernetesJson.Deserialize<V1Alpha1Vault>(
            """{"apiVersion":"xks.dev/v1alpha1","kind":"Vault","metadata":{"name":"v"},"spec":{"hostname":"xks.example.com"}}""");

        Assert.Equal(2, vault.Spec.Replicas);
        Assert.False(vault.Spec.AllowSingleReplica);
        Assert.Equal(V1Alpha1ExposureType.Ingress, vault.Spec.Exposure.Type);
        Assert.Equal(V1Alpha1KeyBackendType.Software, vault.Spec.KeyBackend.Type);
        Assert.Equal(V1Alpha1ProxyLogLevel.Information, vault.Spec.Proxy.LogLevel);
        Assert.Null(vault.Spec.Proxy.Image);
        Assert.Null(vault.Spec.Tls);
        Assert.NotNull(vault.Status);
        Assert.Empty(vault.Status.Conditions);
    }

    [Fact]
    public void Deserialize_FullVault_ReadsEveryField()
    {
        var vault = KubernetesJson.Deserialize<V1Alpha1Vault>("""
            {"apiVersion":"xks.dev/v1alpha1","kind":"Vault","metadata":{"name":"v","namespace":"n","generation":3},
             "spec":{"replicas":3,"hostname":"xks.example.com",
               "tls":{"issuerRef":{"name":"letsencrypt","kind":"ClusterIssuer"},"duration":"2160h"},
               "exposure":{"type":"LoadBalancer","loadBalancer":{"annotations":{"a":"b"},"loadBalancerSourceRanges":["10.0.0.0/8"]}},
               "keyBackend":{"type":"Pkcs11","pkcs11":{"library":"/lib/p11.so","slot":4,"pinSecretRef":{"name":"pin"}}},
               "proxy":{"image":"img:1","imagePullPolicy":"Never","logLevel":"Debug","resources":{"limits":{"cpu":"1"}},
                        "tolerations":[{"key":"k","operator":"Exists"}]}},
             "status":{"endpoint":"https://xks.example.com","readyReplicas":2,"observedGeneration":3,
               "conditions":[{"type":"Ready","status":"True","reason":"Available","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}
            """);

        Assert.Equal(3, vault.Spec.Replicas);
        Assert.Equal("ClusterIssuer", vault.Spec.Tls!.IssuerRef!.Kind);
        Assert.Equal("cert-manager.io", vault.Spec.Tls.IssuerRef.Group);
        Assert.Equal(V1Alpha1ExposureType.LoadBalancer, vault.Spec.Exposure.Type);
        Assert.Equal(["10.0.0.0/8"], vault.Spec.Exposure.LoadBalancer!.LoadBalancerSourceRanges!);
        Assert.Equal(V1Alpha1KeyBackendType.Pkcs11, vault.Spec.KeyBackend.Type);
        Assert.Equal(4, vault.Spec.KeyBackend.Pkcs11!.Slot);
        Assert.Equal("pin", vault.Spec.KeyBackend.Pkcs11.PinSecretRef!.Key);
        Assert.Equal(V1Alpha1ImagePullPolicy.Never, vault.Spec.Proxy.ImagePullPolicy);
        Assert.Equal("1", vault.Spec.Proxy.Resources!.Limits["cpu"].ToString());
        Assert.Equal("Exists", vault.Spec.Proxy.Tolerations![0].OperatorProperty);
        Assert.True(Conditions.IsTrue(vault.Status.Conditions, ConditionTypes.Ready));
        Assert.Equal(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), vault.Status.Conditions[0].LastTransitionTime.ToUniversalTime());
    }

    [Fact]
    public void Serialize_Status_EnumsAsStringsAndNoNulls()
    {
        var vault = new V1Alpha1Vault();
        vault.Metadata.Name = "v";
        vault.Spec.Hostname = "xks.example.com";
        Conditions.Set(vault.Status.Conditions, ConditionTypes.Ready, ConditionStatus.False, "InvalidSpec", "", 1, TimeProvider.System);

        var json = KubernetesJson.Serialize(vault);

        Assert.Contains("\"type\":\"Ingress\"", json, StringComparison.Ordinal);
        Assert.Contains("\"logLevel\":\"Information\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("null", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"message\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_Certificate_OnlyTheFieldsSet()
    {
        var certificate = new V1Certificate();
        certificate.Metadata.Name = "v-tls";
        certificate.Spec.SecretName = "v-tls";
        certificate.Spec.DnsNames = ["xks.example.com"];
        certificate.Spec.IssuerRef = new V1CertificateIssuerReference { Name = "letsencrypt", Kind = "ClusterIssuer" };

        var json = KubernetesJson.Serialize(certificate);

        Assert.Equal(
            """{"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"v-tls"},"spec":{"secretName":"v-tls","dnsNames":["xks.example.com"],"issuerRef":{"name":"letsencrypt","kind":"ClusterIssuer"}},"status":{}}""",
            json);
    }

    [Fact]
    public void Deserialize_Samples_ReadIntoTheEntities()
    {
        var samples = Path.Combine(LocalCluster.RepositoryRoot, "config", "samples");

        var vault = KubernetesYaml.Deserialize<V1Alpha1Vault>(File.ReadAllText(Path.Combine(samples, "xks.dev_v1alpha1_vault.yaml")));
        var account = KubernetesYaml.Deserialize<V1Alpha1CspAccount>(File.ReadAllText(Path.Combine(samples, "xks.dev_v1alpha1_cspaccount.yaml")));
        var keySet = KubernetesYaml.Deserialize<V1Alpha1KeySet>(File.ReadAllText(Path.Combine(samples, "xks.dev_v1alpha1_keyset.yaml")));
        var key = KubernetesYaml.Deserialize<V1Alpha1CloudKey>(File.ReadAllText(Path.Combine(samples, "xks.dev_v1alpha1_cloudkey.yaml")));

        Assert.Equal("xks.example.com", vault.Spec.Hostname);
        Assert.Equal(("letsencrypt", "ClusterIssuer"), (vault.Spec.Tls!.IssuerRef!.Name, vault.Spec.Tls.IssuerRef.Kind));
        Assert.Equal(V1Alpha1ExposureType.Ingress, vault.Spec.Exposure.Type);
        Assert.Equal("nginx", vault.Spec.Exposure.Ingress!.ClassName);
        Assert.Equal("eu-west-1", account.Spec.Region);
        Assert.Equal("aws-credentials", account.Spec.Credentials.SecretRef!.Name);
        Assert.Equal("accessKeyId", account.Spec.Credentials.SecretRef.AccessKeyIdKey);
        Assert.Equal(("xks", "production"), (keySet.Spec.VaultRef.Name, keySet.Spec.CspAccountRef.Name));
        Assert.Equal("payments", key.Spec.KeySetRef.Name);
        Assert.True(key.Spec.Enabled);
        Assert.Equal(["cost-center=4711", "team=payments"], key.Spec.Tags!.Select(t => $"{t.Key}={t.Value}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Deserialize_ClusterCspAccountSample_SharesTheOperatorsIdentityBySelector()
    {
        var path = Path.Combine(LocalCluster.RepositoryRoot, "config", "samples", "cluster", "xks.dev_v1alpha1_clustercspaccount.yaml");

        var account = KubernetesYaml.Deserialize<V1Alpha1ClusterCspAccount>(File.ReadAllText(path));

        Assert.Equal(V1Alpha1CredentialsSource.Default, account.Spec.Credentials.Source);
        Assert.Equal("shared-production", account.Spec.NamespaceSelector.MatchLabels["xks.dev/aws-account"]);
        Assert.Empty(new Xks.Operator.Aws.AwsIdentityPolicy().Refusals(Xks.Operator.Aws.AwsAccount.Of(account, "xks-system")));
        Assert.Equal("xks:cluster:shared-production", Xks.Operator.Aws.AwsAccount.Of(account, "xks-system").ExternalId);
    }

    public static TheoryData<Type> SchemaTypes()
    {
        var data = new TheoryData<Type>();
        foreach (var type in AllSchemaTypes())
        {
            data.Add(type);
        }

        return data;
    }

    /// <summary>The C# initialiser and [DefaultValue] (which becomes the CRD default) must agree.</summary>
    [Theory]
    [MemberData(nameof(SchemaTypes))]
    public void DefaultValue_EveryProperty_MatchesTheCSharpInitialiser(Type type)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var property in type.GetProperties())
        {
            if (property.GetCustomAttribute<DefaultValueAttribute>() is not { } attribute)
            {
                continue;
            }

            var actual = property.GetValue(instance);
            if (attribute.Value is "{}")
            {
                Assert.True(actual is not null, $"{type.Name}.{property.Name} defaults to {{}} in the CRD but is null in C#");
            }
            else
            {
                Assert.True(Equals(attribute.Value, actual), $"{type.Name}.{property.Name}: CRD default {attribute.Value}, C# {actual}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SchemaTypes))]
    public void JsonPropertyName_EveryProperty_IsCamelCaseOfTheCSharpName(Type type)
    {
        foreach (var property in type.GetProperties())
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
            Assert.True(name is not null, $"{type.Name}.{property.Name} has no [JsonPropertyName]");
            Assert.Equal(char.ToLowerInvariant(property.Name[0]) + property.Name[1..], name);
        }
    }

    /// <summary>Every class reachable from the four entities' spec and status (not the embedded Kubernetes types).</summary>
    private static IEnumerable<Type> AllSchemaTypes()
    {
        var seen = new HashSet<Type>();
        var queue = new Queue<Type>();
        foreach (var entity in CrdGenerator.EntityTypes)
        {
            var args = entity.BaseType!.GetGenericArguments();
            queue.Enqueue(args[0]);
            queue.Enqueue(args[1]);
        }

        while (queue.TryDequeue(out var type))
        {
            if (!seen.Add(type))
            {
                continue;
            }

            foreach (var property in type.GetProperties())
            {
                var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (propertyType.IsGenericType)
                {
                    propertyType = propertyType.GetGenericArguments()[^1];
                }

                if (propertyType.IsClass && propertyType.Namespace == typeof(V1Alpha1Vault).Namespace)
                {
                    queue.Enqueue(propertyType);
                }
            }
        }

        return seen.OrderBy(t => t.Name, StringComparer.Ordinal);
    }
}
