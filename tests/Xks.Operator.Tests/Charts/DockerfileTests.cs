using System.Text.RegularExpressions;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

[CollectionDefinition(Name)]
public sealed class PublishCollection
{
    public const string Name = "publish";
}

/// <summary>
/// No container engine here, so the images cannot be built; instead each Dockerfile's own <c>dotnet publish</c>
/// command is run (Release, to a temporary folder instead of /app) in a copy of the build context that
/// .dockerignore leaves, and its ENTRYPOINT is checked against the output.
/// </summary>
[Collection(PublishCollection.Name)]
public sealed partial class DockerfileTests
{
    [Theory]
    [InlineData("operator/Dockerfile", "xks-operator.dll")]
    [InlineData("proxy/Dockerfile", "xks-proxy.dll")]
    public async Task Dockerfile_PublishStep_ProducesTheEntrypoint(string dockerfile, string entrypointDll)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(LocalCluster.RepositoryRoot, dockerfile));
        var publish = PublishStep().Match(text);
        Assert.True(publish.Success, $"{dockerfile} has no 'RUN dotnet publish … -o /app' step");
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"/app/{entrypointDll}\"]", text, StringComparison.Ordinal);

        var context = Path.Combine(Path.GetTempPath(), "xks-docker-context-" + Guid.NewGuid().ToString("N"));
        try
        {
            DockerContext.CopyTo(context);
            var output = Path.Combine(context, "app");
            var arguments = publish.Groups["args"].Value.Replace("-o /app", $"-o {output}", StringComparison.Ordinal);
            var result = await RunAsync(context, "dotnet", "publish " + arguments);

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.True(File.Exists(Path.Combine(output, entrypointDll)), $"{entrypointDll} not in the publish output");
            Assert.True(File.Exists(Path.Combine(output, Path.ChangeExtension(entrypointDll, ".runtimeconfig.json"))));
        }
        finally
        {
            if (Directory.Exists(context))
            {
                Directory.Delete(context, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("operator/Dockerfile")]
    [InlineData("proxy/Dockerfile")]
    public async Task Dockerfile_Stages_BuildWithSdkAndRunAsNonRoot(string dockerfile)
    {
        var lines = (await File.ReadAllLinesAsync(Path.Combine(LocalCluster.RepositoryRoot, dockerfile)))
            .Where(l => !l.TrimStart().StartsWith('#') && l.Trim().Length > 0)
            .ToList();

        var from = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, from.Count);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", from[0], StringComparison.Ordinal);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:10.0", from[1], StringComparison.Ordinal);
        var runtimeStage = lines.SkipWhile(l => l != from[1]).ToList();
        Assert.Contains("USER 65532:65532", runtimeStage);
        Assert.DoesNotContain(runtimeStage, l => l.StartsWith("RUN ", StringComparison.Ordinal));
        Assert.Contains("COPY --from=build /app ./", runtimeStage);
    }

    [Fact]
    public async Task DockerIgnore_KeepsBuildOutputsAndLocalDataOutOfTheContext()
    {
        var entries = await File.ReadAllLinesAsync(Path.Combine(LocalCluster.RepositoryRoot, ".dockerignore"));

        foreach (var entry in new[] { "**/bin/", "**/obj/", ".git/", ".data/", "artifacts/" })
        {
            Assert.Contains(entry, entries);
        }
    }

    private static async Task<CommandResult> RunAsync(string workingDirectory, string fileName, string arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No build servers or reused nodes: they would outlive the publish and hold its output pipes open.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        using var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("could not start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex(@"^RUN dotnet publish (?<args>.+ -o /app( .*)?)$", RegexOptions.Multiline)]
    private static partial Regex PublishStep();
}
