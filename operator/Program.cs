using System.Net;
using k8s;
using k8s.Models;
using Xks.Operator.Controllers;
using Xks.Operator.Crds;
using Xks.Operator.Entities;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Hsm;
using Xks.Operator.Options;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Informers;

var commandLine = OperatorCommandLine.Parse(args);
if (commandLine.Problems.Count > 0)
{
    await Console.Error.WriteLineAsync("xks-operator: cannot start:\n  - " + string.Join("\n  - ", commandLine.Problems) + "\n\n" + OperatorCommandLine.Usage);
    return 2;
}

switch (commandLine.Command)
{
    case OperatorCommand.Help:
        Console.WriteLine(OperatorCommandLine.Usage);
        return 0;
    case OperatorCommand.Crds:
        foreach (var file in CrdGenerator.WriteAll(commandLine.CrdOutput!))
        {
            Console.WriteLine(file);
        }

        return 0;
}

var options = commandLine.Options;
var builder = WebApplication.CreateSlimBuilder();
// Probes and metrics scrapes are not news: ASP.NET Core's request logs stay at Warning unless
// Logging__LogLevel__Microsoft.AspNetCore says otherwise (Logging__LogLevel__Default alone no longer turns them on).
builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] ??= "Warning";
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.IncludeScopes = true;
    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    console.UseUtcTimestamp = true;
});
builder.WebHost.ConfigureKestrel(kestrel =>
    kestrel.Listen(IPAddress.TryParse(options.HttpAddress, out var address) ? address : IPAddress.Any, options.HttpPort));

var kubernetesConfiguration = options.Kubeconfig is not null
    ? KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig)
    : KubernetesClientConfiguration.IsInCluster()
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildDefaultConfig();
var client = new Kubernetes(kubernetesConfiguration);
builder.Services.AddSingleton<IKubernetes>(client);

// PodDisruptionBudgets are policy/v1 from Kubernetes 1.21, policy/v1beta1 before; watch the version the server serves.
var pdbVersion = "v1";
try
{
    var policy = await client.Policy.GetAPIGroupAsync();
    pdbVersion = ProxyPodDisruptionBudgetBuilder.SelectApiVersion(policy.Versions.Select(v => v.GroupVersion)).Split('/')[1];
}
catch (Exception ex) when (ex is HttpRequestException or k8s.Autorest.HttpOperationException)
{
    await Console.Error.WriteLineAsync($"xks-operator: could not read the policy API group ({ex.Message}); assuming policy/v1");
}

builder.Services.AddSingleton(options);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<ServerSideApply>();
builder.Services.AddSingleton<AwsClients>();
// One PKCS#11 module per library path and one logged-in session per token for the whole process (disposed at shutdown).
builder.Services.AddSingleton<Pkcs11HsmKeys>();
builder.Services.AddSingleton<IHsmKeys>(sp => sp.GetRequiredService<Pkcs11HsmKeys>());
var podName = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName;
builder.Services.AddSingleton(sp => new EventRecorder(
    sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EventRecorder>>())
{
    Instance = podName,
});

builder.Services
    .AddXksControllerRuntime(runtime =>
    {
        runtime.Namespace = options.Namespace;
        runtime.Workers = options.Workers;
        runtime.ResyncPeriod = options.ResyncPeriod;
        runtime.LeaderElection.Enabled = options.LeaderElect;
        runtime.LeaderElection.Namespace = options.LeaderElectionNamespace;
        runtime.LeaderElection.Identity = $"{podName}_{Guid.NewGuid():N}";
    })
    .AddController<V1Alpha1Vault, VaultController>(vaults => vaults
        .Owns<V1Deployment>(VaultController.ChildSelector)
        .Owns<V1Service>(VaultController.ChildSelector)
        .Owns<V1ServiceAccount>(VaultController.ChildSelector)
        .Owns<V1Role>(VaultController.ChildSelector)
        .Owns<V1RoleBinding>(VaultController.ChildSelector)
        .Owns<V1Ingress>(VaultController.ChildSelector)
        .Owns(ResourceApi.Custom<V1PodDisruptionBudget>(client, options.Namespace, ResourceType.Of<V1PodDisruptionBudget>() with { Version = pdbVersion }), VaultController.ChildSelector)
        // Secrets by label rather than owner: the master key deliberately has no owner reference.
        .Watches<V1Secret>(
            secret => secret.Metadata.Labels is { } labels && labels.TryGetValue(VaultLabels.VaultLabel, out var vault)
                ? [new Xks.Operator.Runtime.ResourceKey(secret.Metadata.NamespaceProperty, vault)]
                : [],
            VaultController.ChildSelector)
        // The PIN Secret a Vault on the PKCS#11 backend names (a user's Secret, unlabelled): created or fixed → look again.
        .Watches<V1Secret>(secret => VaultController.VaultsUsingPinSecret(vaults.Informer, secret))
        .Watches<V1Alpha1KeySet>(keySet => [new Xks.Operator.Runtime.ResourceKey(keySet.Metadata.NamespaceProperty, keySet.Spec.VaultRef.Name)])
        .Watches<V1Alpha1CloudKey>(key => VaultOfCloudKey(vaults.SharedInformer<V1Alpha1KeySet>(), key)))
    // A CspAccount is verified again whenever the Secret its secretRef names changes.
    .AddController<V1Alpha1CspAccount, CspAccountController>(accounts => accounts
        .Watches<V1Secret>(secret => CspAccountController.AccountsUsingSecret(accounts.Informer, secret)))
    .AddController<V1Alpha1KeySet, KeySetController>(keySets => keySets
        .Owns<V1Secret>(VaultController.ChildSelector)
        .Watches<V1Alpha1Vault>(vault => ReferencingKeySets(keySets.Informer, vault.Metadata.NamespaceProperty, k => k.Spec.VaultRef.Name == vault.Metadata.Name))
        .Watches<V1Alpha1CspAccount>(account => ReferencingKeySets(keySets.Informer, account.Metadata.NamespaceProperty, k => k.Spec.CspAccountRef.Name == account.Metadata.Name))
        .Watches<V1Alpha1CloudKey>(key => [new Xks.Operator.Runtime.ResourceKey(key.Metadata.NamespaceProperty, key.Spec.KeySetRef.Name)]))
    .AddController<V1Alpha1CloudKey, CloudKeyController>(cloudKeys => cloudKeys
        .Watches<V1Alpha1KeySet>(keySet => cloudKeys.Informer.List(keySet.Metadata.NamespaceProperty)
            .Where(k => k.Spec.KeySetRef.Name == keySet.Metadata.Name)
            .Select(k => new Xks.Operator.Runtime.ResourceKey(k.Metadata.NamespaceProperty, k.Metadata.Name))));

builder.Services.AddSingleton<CustomResourceWriter>();
builder.Services.AddSingleton<ReadyReporter>();

var app = builder.Build();
app.MapXksControllerRuntime();
await app.RunAsync();
return 0;

static IEnumerable<Xks.Operator.Runtime.ResourceKey> VaultOfCloudKey(ResourceInformer<V1Alpha1KeySet> keySets, V1Alpha1CloudKey key) =>
    keySets.TryGet(new Xks.Operator.Runtime.ResourceKey(key.Metadata.NamespaceProperty, key.Spec.KeySetRef.Name), out var keySet)
        ? [new Xks.Operator.Runtime.ResourceKey(key.Metadata.NamespaceProperty, keySet.Spec.VaultRef.Name)]
        : [];

static IEnumerable<Xks.Operator.Runtime.ResourceKey> ReferencingKeySets(ResourceInformer<V1Alpha1KeySet> keySets, string ns, Func<V1Alpha1KeySet, bool> references) =>
    keySets.List(ns).Where(references).Select(k => new Xks.Operator.Runtime.ResourceKey(ns, k.Metadata.Name));
