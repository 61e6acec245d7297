namespace RingKv.Testing;

/// <summary>The checkout's root: the nearest folder above the test assembly that holds <c>global.json</c>.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "global.json")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No global.json above {AppContext.BaseDirectory}: cannot find the repository root.");
    }
}
