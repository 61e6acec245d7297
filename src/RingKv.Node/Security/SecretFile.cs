namespace RingKv.Node.Security;

/// <summary>Writes files that only the owner may read (mode 0600 from creation, not chmod-ed after: no window where others can read).</summary>
public static class SecretFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(path, options))
        {
            file.Write(content);
        }
        if (!OperatingSystem.IsWindows())
        {
            // An existing file keeps its mode on overwrite: tighten it too.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
