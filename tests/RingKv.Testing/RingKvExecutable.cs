namespace RingKv.Testing;

/// <summary>
/// Where the built <c>ringkv.dll</c> is. Test projects reference RingKv.Cli, so it normally sits
/// next to the test assembly; otherwise the newest build in the checkout is used.
/// </summary>
public static class RingKvExecutable
{
    /// <summary>Set to a ringkv.dll path to test another build.</summary>
    public const string OverrideVariable = "RINGKV_CLI_DLL";

    private static readonly Lazy<string> Located = new(Locate);

    public static string Dll => Located.Value;

    private static string Locate()
    {
        var overridden = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrEmpty(overridden))
        {
            return File.Exists(overridden)
                ? Path.GetFullPath(overridden)
                : throw new FileNotFoundException($"{OverrideVariable} points to {overridden}, which does not exist.");
        }

        // Runnable only with its runtimeconfig and deps files (the latter locates rocksdb's native library).
        var beside = Path.Combine(AppContext.BaseDirectory, "ringkv.dll");
        if (IsRunnable(beside))
        {
            return beside;
        }

        var root = RepositoryRoot.Path;
        var candidates = new[]
        {
            Path.Combine(root, "artifacts", "bin", "RingKv.Cli", "debug", "ringkv.dll"),
            Path.Combine(root, "artifacts", "bin", "RingKv.Cli", "release", "ringkv.dll"),
            Path.Combine(root, ".ringkv", "bin", "ringkv.dll"),
        };
        return candidates.Where(IsRunnable).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            ?? throw new FileNotFoundException(
                $"No runnable ringkv.dll beside the tests ({AppContext.BaseDirectory}) nor in {string.Join(", ", candidates)}. " +
                "Build it: dotnet build src/RingKv.Cli");
    }

    private static bool IsRunnable(string dll) =>
        File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")) && File.Exists(Path.ChangeExtension(dll, ".deps.json"));
}
