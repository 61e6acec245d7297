using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>One real <c>ringkv node --engine memory</c> process on port 0, shared by the tests of a class; each test uses its own key prefix.</summary>
public sealed class MemoryNodeFixture : IAsyncLifetime
{
    private RingKvProcess? _node;

    public Uri Url { get; private set; } = null!;

    public RingKvProcess Node => _node ?? throw new InvalidOperationException("The node is not started.");

    public RingKvClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _node = RingKvProcess.Start("node", "--port", "0", "--engine", "memory");
        Url = await _node.WaitForUrlAsync(Deadlines.NodeStart);
        Client = new RingKvClient(Url);
    }

    /// <summary>Runs <c>ringkv args... --url URL</c> against this node.</summary>
    public Task<CommandResult> RunAsync(params string[] args) => RunAsync(args, new RingKvProcessOptions());

    public Task<CommandResult> RunAsync(IEnumerable<string> args, RingKvProcessOptions options) =>
        RingKvProcess.RunAsync([.. args, "--url", Url.ToString()], Deadlines.Command, options);

    /// <summary>A key prefix no other test uses.</summary>
    public static string UniquePrefix(string test) => $"cli/{test}/{Guid.NewGuid():N}/";

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}
