using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using RingKv.Node.Backup;
using RingKv.Storage;

namespace RingKv.Cli.Backup;

/// <summary>
/// <c>ringkv backup DIR</c>: reads every span of the ring from the replicas of its parts, merges
/// them (newest version wins), writes one file per span and records it in the manifest as soon as
/// it is complete, so an interrupted backup resumes where it stopped (docs/BACKUP.md).
/// </summary>
public sealed class BackupRunner(HttpClient http, Uri coordinator, TextWriter output, TextWriter progress)
{
    /// <summary>Spans read at once, each from every node that holds part of it, at once.</summary>
    public const int ParallelSpans = 4;

    /// <summary>Entries per page asked of a node.</summary>
    public const int PageLimit = 1000;

    public const string SpansFolder = "ranges";

    private readonly Lock _manifestLock = new();

    public async Task<int> RunAsync(string directory, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var topology = await ClusterTopology.FetchAsync(http, coordinator, cancellationToken);
        var manifest = Prepare(directory, topology, started);
        var done = manifest.Spans.Select(s => s.Index).ToHashSet();
        var todo = Enumerable.Range(0, manifest.SpanCount).Where(i => !done.Contains(i)).ToList();
        if (done.Count > 0)
        {
            await progress.WriteLineAsync($"ringkv: resuming backup {manifest.BackupId}: {done.Count} of {manifest.SpanCount} ranges already done.");
        }
        var meter = new BackupProgress("backup", todo.Count, progress);
        var failures = new List<string>();
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var ticker = meter.RunAsync(stop.Token);
            await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = ParallelSpans, CancellationToken = cancellationToken }, async (index, ct) =>
            {
                try
                {
                    var span = await BackupSpanAsync(directory, manifest, topology, index, meter, ct);
                    lock (_manifestLock)
                    {
                        manifest.Spans.Add(span);
                        manifest.Spans.Sort((a, b) => a.Index.CompareTo(b.Index));
                        Totals(manifest);
                        manifest.Save(directory);
                    }
                    meter.SpanDone();
                }
                catch (BackupException e)
                {
                    lock (failures)
                    {
                        failures.Add($"range {index}: {e.Message}");
                    }
                }
            });
            await stop.CancelAsync();
            await ticker;
        }
        if (failures.Count > 0)
        {
            foreach (var failure in failures.Order(StringComparer.Ordinal).Take(10))
            {
                await progress.WriteLineAsync("ringkv: " + failure);
            }
            await progress.WriteLineAsync($"ringkv: {failures.Count} of {manifest.SpanCount} ranges could not be read; the {manifest.Spans.Count} finished are kept. Run 'ringkv backup {directory}' again to resume.");
            return ExitCodes.Failure;
        }
        var end = await ClusterTopology.FetchAsync(http, coordinator, cancellationToken);
        manifest.EpochAtEnd = end.Epoch;
        manifest.FinishedAt = DateTimeOffset.UtcNow;
        manifest.Complete = true;
        manifest.Save(directory);
        var seconds = Math.Max(meter.Elapsed.TotalSeconds, 0.001);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"backup {manifest.BackupId} complete in {directory}: {manifest.Entries} entries ({manifest.Tombstones} tombstones, {manifest.ValueBytes} bytes of values) in {manifest.SpanCount} ranges, {meter.Entries / seconds:0} entries/s; consistent at {manifest.ConsistentAt:O}."));
        if (end.Epoch != manifest.Epoch)
        {
            await output.WriteLineAsync($"note: the ring changed during the backup (epoch {manifest.Epoch} to {end.Epoch}); ranges were read from the replicas named at the start.");
        }
        return ExitCodes.Success;
    }

    /// <summary>A new manifest in an empty directory, or the interrupted one found there.</summary>
    private BackupManifest Prepare(string directory, ClusterTopology topology, DateTimeOffset started)
    {
        Directory.CreateDirectory(Path.Combine(directory, SpansFolder));
        if (BackupManifest.Load(directory) is { } existing)
        {
            if (existing.Complete)
            {
                throw new UsageException($"{directory} already holds a complete backup ({existing.BackupId}). Give an empty directory for a new one.");
            }
            // A span whose file went missing is read again; a half-written file of the run that stopped is dropped.
            existing.Spans.RemoveAll(s => !File.Exists(Path.Combine(directory, s.File)));
            foreach (var partial in Directory.EnumerateFiles(Path.Combine(directory, SpansFolder), "*.partial"))
            {
                File.Delete(partial);
            }
            return existing;
        }
        if (Directory.EnumerateFileSystemEntries(directory).Any(e => Path.GetFileName(e) != SpansFolder) ||
            Directory.EnumerateFileSystemEntries(Path.Combine(directory, SpansFolder)).Any())
        {
            throw new UsageException($"{directory} is not empty and holds no backup manifest. Give an empty (or new) directory.");
        }
        var manifest = new BackupManifest
        {
            BackupId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Source = coordinator.ToString(),
            Epoch = topology.Epoch,
            ReplicationFactor = topology.ReplicationFactor,
            Nodes = topology.Members.Count,
            StartedAt = started,
            ConsistentAt = started,
            Guarantee = "Every write acknowledged before consistentAt is in this backup, at its version or a newer one, " +
                "provided its write quorum W plus the replicas read (minReplicasRead of each range) exceeds replicationFactor, so that the two overlap. " +
                "Writes after consistentAt may be in it or not, each at most once, never older than a write acknowledged before it.",
            SpanCount = BackupPlan.DefaultSpanCount,
        };
        manifest.Save(directory);
        return manifest;
    }

    private static void Totals(BackupManifest manifest)
    {
        manifest.Entries = manifest.Spans.Sum(s => s.Entries);
        manifest.Tombstones = manifest.Spans.Sum(s => s.Tombstones);
        manifest.ValueBytes = manifest.Spans.Sum(s => s.Bytes);
        manifest.ExpiredSkipped = manifest.Spans.Sum(s => s.ExpiredSkipped);
    }

    private async Task<BackupSpan> BackupSpanAsync(string directory, BackupManifest manifest, ClusterTopology topology, int index, BackupProgress meter, CancellationToken cancellationToken)
    {
        var (first, last) = BackupPlan.Span(index, manifest.SpanCount);
        var parts = BackupPlan.Parts(first, last, topology.Ring.Ranges(topology.ReplicationFactor));
        var (copies, minRead) = await ReadReplicasAsync(topology, first, last, parts, manifest.BackupId, cancellationToken);
        var name = Path.Combine(SpansFolder, index.ToString("D4", CultureInfo.InvariantCulture) + ".ndjson");
        var path = Path.Combine(directory, name);
        var partial = path + ".partial";
        long entries = 0, tombstones = 0, bytes = 0, expired = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            var buffer = new ArrayBufferWriter<byte>(1 << 16);
            var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var entry in NewestMerge.Merge(copies))
            {
                if (entry.ExpiresAtMs != 0 && entry.ExpiresAtMs <= nowMs)
                {
                    expired++;
                    continue;
                }
                BackupLine.Write(buffer, entry);
                meter.Add(1);
                entries++;
                tombstones += entry.Deleted ? 1 : 0;
                bytes += entry.Value.Length;
                if (buffer.WrittenCount >= 1 << 16)
                {
                    await FlushAsync(file, sha, buffer, cancellationToken);
                }
            }
            await FlushAsync(file, sha, buffer, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        File.Move(partial, path, overwrite: true);
        return new BackupSpan
        {
            Index = index,
            First = first.ToString("x16", CultureInfo.InvariantCulture),
            Last = last.ToString("x16", CultureInfo.InvariantCulture),
            File = name,
            Entries = entries,
            Tombstones = tombstones,
            Bytes = bytes,
            ExpiredSkipped = expired,
            Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset()),
            MinReplicasRead = minRead,
            FinishedAt = DateTimeOffset.UtcNow,
        };
    }

    private static async Task FlushAsync(FileStream file, IncrementalHash sha, ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        sha.AppendData(buffer.WrittenSpan);
        await file.WriteAsync(buffer.WrittenMemory, cancellationToken);
        buffer.ResetWrittenCount();
    }

    /// <summary>
    /// Every node that replicates a part of the span and is up is asked for the whole span at once
    /// (one request and its pages per node, not one per part); of what a node sends, only entries of
    /// parts it replicates count, so a stray copy an old owner still holds is not taken for a
    /// replica's. Nodes that fail are left out, but each part needs at least one of its replicas.
    /// </summary>
    /// <returns>Each node's counted entries, and the fewest replicas any part was read from.</returns>
    private async Task<(List<IReadOnlyList<StoredEntry>> Copies, int MinRead)> ReadReplicasAsync(
        ClusterTopology topology, ulong first, ulong last, IReadOnlyList<BackupPart> parts, string backupId, CancellationToken cancellationToken)
    {
        var holders = parts.SelectMany(p => p.Replicas).Distinct(StringComparer.Ordinal).ToList();
        var asked = holders.Select(id => topology.Members.GetValueOrDefault(id)).Where(m => m is { IsUp: true }).Select(m => m!).ToList();
        var results = await Task.WhenAll(asked.Select(m => TryReadAsync(m, first, last, backupId, cancellationToken)));
        var read = new HashSet<string>(StringComparer.Ordinal);
        var copies = new List<IReadOnlyList<StoredEntry>>();
        for (var i = 0; i < asked.Count; i++)
        {
            if (results[i].Entries is not { } entries)
            {
                continue;
            }
            var id = asked[i].Id;
            read.Add(id);
            copies.Add(entries.Where(e => BackupPlan.PartOf(parts, e.Token).Replicas.Contains(id, StringComparer.Ordinal)).ToList());
        }
        var minRead = int.MaxValue;
        foreach (var part in parts)
        {
            var replicas = part.Replicas.Distinct(StringComparer.Ordinal).ToList();
            var count = replicas.Count(read.Contains);
            if (count == 0)
            {
                var why = results.Where(r => r.Error.Length > 0).Select(r => r.Error)
                    .Concat(replicas.Select(id => topology.Members.GetValueOrDefault(id)).Where(m => m is not { IsUp: true })
                        .Select(m => m is null ? "a replica unknown to the coordinator" : $"{m.Id} is {m.State}"));
                throw new BackupException(string.Create(CultureInfo.InvariantCulture,
                    $"no replica of tokens [{part.First:x16}, {part.Last:x16}] ({string.Join(", ", replicas)}) could be read: {string.Join("; ", why)}"));
            }
            minRead = Math.Min(minRead, count);
        }
        return (copies, minRead);
    }

    private async Task<(IReadOnlyList<StoredEntry>? Entries, string Error)> TryReadAsync(ClusterTopology.Member member, ulong first, ulong last, string backupId, CancellationToken cancellationToken)
    {
        try
        {
            return (await ReadAsync(member, first, last, backupId, cancellationToken), string.Empty);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or BackupException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"{member.Id}: {e.Message}");
        }
    }

    private async Task<IReadOnlyList<StoredEntry>> ReadAsync(ClusterTopology.Member member, ulong first, ulong last, string backupId, CancellationToken cancellationToken)
    {
        var entries = new List<StoredEntry>();
        string? cursor = null;
        do
        {
            var query = string.Create(CultureInfo.InvariantCulture,
                $"{BackupEndpoints.RangePath}?first={first:x16}&last={last:x16}&limit={PageLimit}&backup={backupId}");
            if (cursor is not null)
            {
                query += "&cursor=" + Uri.EscapeDataString(cursor);
            }
            using var response = await http.GetAsync(new Uri(member.ClientUrl, query), cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new BackupException($"answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
            }
            cursor = RangePage.Read(body, entries);
        }
        while (cursor is not null);
        return entries;
    }
}
