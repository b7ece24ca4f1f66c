namespace Xks.Testing;

/// <summary>Folders of their own under the system's temporary folder, for one test's files.</summary>
public static class TemporaryDirectory
{
    /// <summary>Creates PREFIX-RANDOM under the temporary folder and returns its path.</summary>
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Removes the folder and what it holds, as far as it can (a process still writing there is no failure).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
