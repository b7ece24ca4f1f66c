namespace Xks.Testing;

/// <summary>Replaces a file in one step (written aside, then renamed over it), as a Kubernetes volume update does, so a reader never sees half a file.</summary>
public static class AtomicFile
{
    public static async Task WriteAllTextAsync(string path, string text)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
