using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// The Docker build context of the repository root as .dockerignore filters it, for the patterns that file uses:
/// <c>**/NAME/</c> (a folder anywhere), <c>NAME/</c> (a top-level folder) and <c>**/*.EXT</c> (files anywhere).
/// Any other pattern fails the test, so the file and this reading of it cannot drift apart silently.
/// </summary>
internal static class DockerContext
{
    public static void CopyTo(string destination)
    {
        var root = LocalCluster.RepositoryRoot;
        var anywhereDirectories = new HashSet<string>(StringComparer.Ordinal);
        var topDirectories = new HashSet<string>(StringComparer.Ordinal);
        var anywhereExtensions = new List<string>();
        foreach (var raw in File.ReadAllLines(Path.Combine(root, ".dockerignore")))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("**/*.", StringComparison.Ordinal) && !line.EndsWith('/'))
            {
                anywhereExtensions.Add(line[4..]);
            }
            else if (line.StartsWith("**/", StringComparison.Ordinal) && line.EndsWith('/') && !line[3..^1].Contains('/'))
            {
                anywhereDirectories.Add(line[3..^1]);
            }
            else if (line.EndsWith('/') && !line[..^1].Contains('/') && !line.Contains('*'))
            {
                topDirectories.Add(line[..^1]);
            }
            else
            {
                Assert.Fail($".dockerignore pattern '{line}' is not understood by {nameof(DockerContext)}");
            }
        }

        Copy(new DirectoryInfo(root), destination, topLevel: true);

        void Copy(DirectoryInfo source, string target, bool topLevel)
        {
            Directory.CreateDirectory(target);
            foreach (var file in source.EnumerateFiles())
            {
                if (!anywhereExtensions.Any(e => file.Name.EndsWith(e, StringComparison.Ordinal)))
                {
                    file.CopyTo(Path.Combine(target, file.Name));
                }
            }

            foreach (var directory in source.EnumerateDirectories())
            {
                if (anywhereDirectories.Contains(directory.Name) || (topLevel && topDirectories.Contains(directory.Name))
                    || directory.Attributes.HasFlag(FileAttributes.ReparsePoint))
                {
                    continue;
                }

                Copy(directory, Path.Combine(target, directory.Name), topLevel: false);
            }
        }
    }
}
