namespace RingKv.Testing;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string? purpose = null)
    {
        Path = Directory.CreateTempSubdirectory($"ringkv-{purpose ?? "test"}-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
        catch (IOException)
        {
            // A process we started may still be closing a file; the OS cleans temp eventually.
        }
    }

    public override string ToString() => Path;
}
