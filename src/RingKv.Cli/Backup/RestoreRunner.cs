using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RingKv.Node.Backup;

namespace RingKv.Cli.Backup;

/// <summary>
/// <c>ringkv restore DIR</c>: checks the backup, then sends its lines in batches to the cluster's
/// up nodes in turn (<c>POST /v1/admin/restore</c>), each of which writes them to their keys'
/// replicas with the versions they carry: a newer version already in the cluster stays, expired
/// entries are skipped. Restoring is idempotent, so a batch that failed is simply sent again.
/// </summary>
public sealed class RestoreRunner(HttpClient http, Uri coordinator, TextWriter output, TextWriter progress)
{
    public const int ParallelSpans = 4;
    public const int BatchLines = 1000;
    public const int BatchBytes = 4 * 1024 * 1024;

    /// <summary>Nodes a batch is offered to before the restore gives up.</summary>
    public const int MaxAttempts = 6;

    private long _applied, _superseded, _expired, _refused, _resent;
    private int _next;

    public async Task<int> RunAsync(string directory, CancellationToken cancellationToken)
    {
        var report = BackupVerifier.Verify(directory);
        if (!report.IsSound)
        {
            foreach (var problem in report.Problems)
            {
                await progress.WriteLineAsync("ringkv: " + problem);
            }
            await progress.WriteLineAsync($"ringkv: {directory} does not check out ({report.Problems.Count} problems): nothing was restored.");
            return ExitCodes.Failure;
        }
        var topology = await ClusterTopology.FetchAsync(http, coordinator, cancellationToken);
        var nodes = topology.Up.Select(m => m.ClientUrl).ToList();
        if (nodes.Count == 0)
        {
            throw new BackupException("No node of the cluster is up. Start one (./ringkv status shows their states).");
        }
        var restoreId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var manifest = report.Manifest;
        var meter = new BackupProgress("restore", manifest.Spans.Count, progress);
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var ticker = meter.RunAsync(stop.Token);
            try
            {
                await Parallel.ForEachAsync(manifest.Spans, new ParallelOptions { MaxDegreeOfParallelism = ParallelSpans, CancellationToken = cancellationToken }, async (span, ct) =>
                {
                    foreach (var batch in Batches(Path.Combine(directory, span.File)))
                    {
                        await SendAsync(nodes, batch, restoreId, ct);
                        meter.Add(batch.Lines);
                    }
                    meter.SpanDone();
                });
            }
            finally
            {
                await stop.CancelAsync();
                await ticker;
            }
        }
        var seconds = Math.Max(meter.Elapsed.TotalSeconds, 0.001);
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"restored backup {manifest.BackupId} ({report.Entries} entries, consistent at {manifest.ConsistentAt:O}) through {nodes.Count} nodes in {seconds:0.0} s, {report.Entries / seconds:0} entries/s: {_applied} written, {_superseded} kept a newer version already in the cluster, {_expired} expired, {_refused} refused (version too far ahead of the nodes' clocks)");
        await output.WriteLineAsync(summary + (_resent > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {_resent} batches were sent again.") : "."));
        return ExitCodes.Success;
    }

    private sealed record Batch(byte[] Body, int Lines);

    /// <summary>The span file's lines in batches of at most <see cref="BatchLines"/> lines and about <see cref="BatchBytes"/> bytes.</summary>
    private static IEnumerable<Batch> Batches(string path)
    {
        var body = new MemoryStream();
        var lines = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            if (lines > 0 && (lines == BatchLines || body.Length + bytes.Length > BatchBytes))
            {
                yield return new Batch(body.ToArray(), lines);
                body.SetLength(0);
                lines = 0;
            }
            body.Write(bytes);
            lines++;
        }
        if (lines > 0)
        {
            yield return new Batch(body.ToArray(), lines);
        }
    }

    private async Task SendAsync(List<Uri> nodes, Batch batch, string restoreId, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var node = nodes[(int)((uint)Interlocked.Increment(ref _next) % (uint)nodes.Count)];
            if (attempt > 0)
            {
                Interlocked.Increment(ref _resent);
            }
            try
            {
                using var content = new ByteArrayContent(batch.Body);
                content.Headers.ContentType = new MediaTypeHeaderValue(BackupEndpoints.NdjsonContentType);
                using var response = await http.PostAsync(new Uri(node, BackupEndpoints.RestorePath + "?restore=" + restoreId), content, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    // The batch or the credentials are wrong: no other node would answer differently.
                    throw new BackupException($"{node} refused a batch ({(int)response.StatusCode}): {text}");
                }
                if (!response.IsSuccessStatusCode)
                {
                    errors.Add($"{node}: {(int)response.StatusCode}");
                    continue;
                }
                using var outcome = JsonDocument.Parse(text);
                var root = outcome.RootElement;
                if (root.GetProperty("failed").GetInt64() > 0)
                {
                    // Some entries missed their quorum: the whole batch again, elsewhere (already stored ones come back as superseded).
                    errors.Add($"{node}: {root.GetProperty("failed").GetInt64()} entries missed their write quorum");
                    continue;
                }
                Interlocked.Add(ref _applied, root.GetProperty("applied").GetInt64());
                Interlocked.Add(ref _superseded, root.GetProperty("superseded").GetInt64());
                Interlocked.Add(ref _expired, root.GetProperty("expired").GetInt64());
                Interlocked.Add(ref _refused, root.GetProperty("refused").GetInt64());
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                errors.Add($"{node}: {e.Message}");
            }
        }
        throw new BackupException($"a batch of {batch.Lines} entries could not be restored after {MaxAttempts} attempts ({string.Join("; ", errors)}). Restoring again is safe: entries already written are kept or superseded, never duplicated.");
    }
}
