using System.Net;
using k8s;
using Xks.Operator.Backup;
using Xks.Operator.Crds;
using Xks.Operator.Custody;
using Xks.Operator.Hosting;
using Xks.Operator.Options;
using Xks.Operator.Resources;

if (BackupCommandLine.IsBackupVerb(args))
{
    return await BackupCommand.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
}

if (ShamirCommandLine.IsShamirVerb(args))
{
    return await ShamirCommand.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
}

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

var podName = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName;
builder.Services.AddXksOperator(options, new OperatorEnvironment(podName, pdbVersion));

var app = builder.Build();
app.MapXksControllerRuntime();
await app.RunAsync();
return 0;
