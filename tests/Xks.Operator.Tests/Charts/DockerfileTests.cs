using System.Text.RegularExpressions;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

[CollectionDefinition(Name)]
public sealed class PublishCollection
{
    public const string Name = "publish";
}

/// <summary>
/// The docker path of each Dockerfile (the app-sdk stage) needs Microsoft's SDK image, which cannot be pulled here;
/// instead that stage's own <c>dotnet publish</c> command is run (to a temporary folder instead of /app) in a copy of
/// the build context that .dockerignore leaves, and the ENTRYPOINT is checked against the output. The host path
/// (APP_FROM=host, what <c>make images</c> builds with buildah) runs in the pod tier.
/// </summary>
[Collection(PublishCollection.Name)]
[Trait("Category", "Integration")]
public sealed partial class DockerfileTests
{
    [Theory]
    [InlineData("operator/Dockerfile", "xks-operator")]
    [InlineData("proxy/Dockerfile", "xks-proxy")]
    public async Task Dockerfile_PublishStep_ProducesTheEntrypoint(string dockerfile, string entrypoint)
    {
        var text = (await File.ReadAllTextAsync(Path.Combine(LocalCluster.RepositoryRoot, dockerfile))).Replace("\\\n", " ", StringComparison.Ordinal);
        var publish = PublishStep().Match(text);
        Assert.True(publish.Success, $"{dockerfile} has no 'RUN dotnet publish … -o /app' step");
        Assert.Contains($"ENTRYPOINT [\"/app/{entrypoint}\"]", text, StringComparison.Ordinal);
        var version = (await File.ReadAllTextAsync(Path.Combine(LocalCluster.RepositoryRoot, "VERSION"))).Trim();

        var context = Path.Combine(Path.GetTempPath(), "xks-docker-context-" + Guid.NewGuid().ToString("N"));
        try
        {
            DockerContext.CopyTo(context);
            var output = Path.Combine(context, "app");
            var arguments = publish.Groups["args"].Value
                .Replace("-o /app", $"-o {output}", StringComparison.Ordinal)
                .Replace("\"$(cat VERSION)\"", version, StringComparison.Ordinal);
            var result = await RunAsync(context, "dotnet", "publish " + arguments);

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.True(File.Exists(Path.Combine(output, entrypoint)), $"{entrypoint} (the self-contained app host) not in the publish output");
            Assert.True(File.Exists(Path.Combine(output, entrypoint + ".dll")));
            Assert.True(File.Exists(Path.Combine(output, "libcoreclr.so")), "the publish is not self-contained: the runtime-deps base has no .NET runtime");
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
    public async Task Dockerfile_Stages_SdkOrHostPublishOnARuntimeDepsBaseRunAsNonRoot(string dockerfile)
    {
        var lines = (await File.ReadAllLinesAsync(Path.Combine(LocalCluster.RepositoryRoot, dockerfile)))
            .Where(l => !l.TrimStart().StartsWith('#') && l.Trim().Length > 0)
            .ToList();

        Assert.Contains("ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0", lines);
        Assert.Contains(lines, l => l.StartsWith("ARG BASE_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble", StringComparison.Ordinal));
        Assert.Contains("ARG APP_FROM=sdk", lines);
        var from = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["FROM ${SDK_IMAGE} AS app-sdk", "FROM scratch AS app-host", "FROM app-${APP_FROM:-sdk} AS app", "FROM ${BASE_IMAGE} AS runtime"],
            from);
        var runtimeStage = lines.SkipWhile(l => l != from[^1]).ToList();
        Assert.Contains("USER 65532:65532", runtimeStage);
        Assert.DoesNotContain(runtimeStage, l => l.StartsWith("RUN ", StringComparison.Ordinal));
        Assert.Contains("COPY --from=app /app /app", runtimeStage);
        Assert.Contains(runtimeStage, l => l.Contains("org.opencontainers.image.revision=\"${REVISION}\"", StringComparison.Ordinal));
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
