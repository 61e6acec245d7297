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
        // Processes started under this directory that outlived their parent (a node whose
        // coordinator member was killed is adopted by init, not by the test's process tree).
        foreach (var pid in ProcessesUsing(Path))
        {
            Signals.Send(pid, Signals.SigKill);
        }
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

    /// <summary>Processes (of this test run) whose command line names a path under <paramref name="directory"/>.</summary>
    public static IReadOnlyList<int> ProcessesUsing(string directory)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(entry), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(System.IO.Path.Combine(entry, "cmdline")).Contains(directory, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile.
            }
        }
        return found;
    }
}
