using RingKv.Storage;

namespace RingKv.Node.Hosting;

/// <summary>Settings of one storage node, with their defaults. Bound from the command line.</summary>
public sealed class NodeOptions
{
    /// <summary>Address the client listener binds to. Default loopback: a node is closed to other machines unless asked.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Client API port. Default 7000; 0 picks a free port.</summary>
    public int Port { get; set; } = 7000;

    /// <summary>Where the engine keeps its files. Default <c>./ringkv-data</c>.</summary>
    public string DataDirectory { get; set; } = "ringkv-data";

    /// <summary><c>rocksdb</c> (default, durable) or <c>memory</c>.</summary>
    public string Engine { get; set; } = "rocksdb";

    /// <summary>Default <see cref="FsyncMode.Batch"/>.</summary>
    public FsyncMode Fsync { get; set; } = FsyncMode.Batch;

    /// <summary>Largest key in UTF-8 bytes. Default 1024.</summary>
    public int MaxKeyBytes { get; set; } = 1024;

    /// <summary>Largest value in bytes. Default 1 MiB.</summary>
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>This node's numeric id, written into every version it issues. Default 1.</summary>
    public uint NodeId { get; set; } = 1;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxKeyBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxValueBytes, 1);
        if (Engine is not ("rocksdb" or "memory"))
        {
            throw new ArgumentException($"Unknown engine '{Engine}'. Use 'rocksdb' or 'memory'.", nameof(Engine));
        }
    }
}
