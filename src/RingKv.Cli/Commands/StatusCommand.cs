using System.CommandLine;
using System.Globalization;
using RingKv.Client;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv status</c>: the cluster at a glance, one row per node.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var command = new Command("status", "Show the cluster: epoch, replication factor, and per node its state, heartbeat age, ring ownership, keys and bytes.");
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
            await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                var status = await client.GetClusterAsync(ct);
                await Console.Out.WriteAsync(Render(status));
                if (status.Source == "coordinator")
                {
                    await Console.Out.WriteAsync(RenderTransfers(await client.GetTransfersAsync(ct)));
                }
                return ExitCodes.Success;
            }, cancellationToken));
        return command;
    }

    /// <summary>Restarts by the coordinator, shown only when there were some or it gave up.</summary>
    private static string Supervision(ClusterNodeStatus node) => node switch
    {
        { Supervision: "gave-up" } => $"  (left down after {node.Restarts} restarts)",
        { Restarts: > 0 } => $"  ({node.Restarts} restart{(node.Restarts == 1 ? "" : "s")})",
        _ => string.Empty,
    };

    /// <summary>A node whose store refuses writes says so, with the free space of its data disk.</summary>
    private static string Storage(ClusterNodeStatus node) => node.Storage switch
    {
        "full" => $"  DISK FULL, writes refused ({FormatBytes(node.FreeDiskBytes)} free)",
        "recovering" => "  STORAGE RECOVERING, writes refused",
        _ => string.Empty,
    };

    public static string Render(ClusterStatus status)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"epoch {status.Epoch}  replication factor {status.ReplicationFactor}");
        if (status.UnderReplicatedRanges is { } under)
        {
            text.Append(CultureInfo.InvariantCulture, $"  under-replicated ranges {under}");
        }
        if (status.Source != "coordinator")
        {
            text.Append("  (coordinator unreachable: this node's own map, no figures)");
        }
        text.AppendLine();
        if (status.Coordinators is { Count: > 1 } coordinators)
        {
            text.AppendLine("COORDINATORS  " + string.Join("  ", coordinators.Select(c =>
                $"{c.Id} ({c.Role}{(c.Role == "unreachable" && c.LastContactMs is { } ms ? $" {ms / 1000.0:0.#} s" : string.Empty)})")) +
                (status.Leader is null ? "  no leader: changes wait for an election" : string.Empty));
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"{"NODE",-6} {"STATE",-8} {"HEARTBEAT",10} {"OWNERSHIP",9} {"KEYS",10} {"BYTES",10}  URL");
        foreach (var node in status.Nodes)
        {
            var heartbeat = node.LastHeartbeatAgeMs is { } age ? (age / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{node.Id,-6} {node.State,-8} {heartbeat,10} {node.Ownership * 100,8:0.0}% {Format(node.Keys),10} {FormatBytes(node.Bytes),10}  {node.ClientUrl}{(node.RespUrl is { } resp ? "  " + resp : string.Empty)}{Supervision(node)}{Storage(node)}");
        }
        if (status.Transitions is { Count: > 0 } transitions)
        {
            text.AppendLine();
            text.AppendLine("RECENT STATE CHANGES");
            foreach (var transition in transitions.TakeLast(8))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{transition.At.ToLocalTime():HH:mm:ss} {transition.Node,-6} {transition.From} -> {transition.To}: {transition.Reason}");
            }
        }
        return text.ToString();
    }

    /// <summary>Active transfers with a progress bar, then the last few finished ones.</summary>
    public static string RenderTransfers(TransferList list)
    {
        var text = new System.Text.StringBuilder();
        var shown = list.Transfers.Where(t => t.State is "pending" or "running").Concat(list.Transfers.Where(t => t.State is not ("pending" or "running")).TakeLast(5)).ToList();
        if (shown.Count == 0)
        {
            return string.Empty;
        }
        text.AppendLine();
        text.AppendLine("TRANSFERS");
        foreach (var transfer in shown)
        {
            var done = transfer.RangesTotal == 0 ? 1.0 : (double)transfer.RangesDone / transfer.RangesTotal;
            var filled = (int)Math.Round(done * 20);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{transfer.Id,-5} {transfer.State,-9} [{new string('#', filled)}{new string('.', 20 - filled)}] {done * 100,5:0.0}%  {transfer.RangesDone}/{transfer.RangesTotal} ranges  {transfer.Keys} keys  {FormatBytes(transfer.Bytes)}  {transfer.KeysPerSecond:0} keys/s  -> {transfer.Destination}  ({transfer.Reason}){(transfer.Error is null ? "" : "  " + transfer.Error)}");
        }
        return text.ToString();
    }

    private static string Format(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string FormatBytes(long? bytes) => bytes switch
    {
        null => "-",
        < 1024 => bytes.Value.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes.Value / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes.Value / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
    };
}
