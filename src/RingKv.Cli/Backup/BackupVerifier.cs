using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RingKv.Node.Backup;

namespace RingKv.Cli.Backup;

/// <summary>What <c>ringkv backup verify</c> found: every problem, and what the sound files hold.</summary>
public sealed record VerifyReport(BackupManifest Manifest, IReadOnlyList<string> Problems, long Entries)
{
    public bool IsSound => Problems.Count == 0;
}

/// <summary>
/// Checks a backup directory against its manifest: complete, every span present once, each file's
/// SHA-256 as recorded, every line an entry, counts as recorded, tokens inside the span and in order.
/// </summary>
public static class BackupVerifier
{
    public static VerifyReport Verify(string directory)
    {
        var manifest = BackupManifest.Load(directory)
            ?? throw new UsageException($"{directory} holds no {BackupManifest.FileName}: it is not a backup directory.");
        var problems = new List<string>();
        long entries = 0;
        if (!manifest.Complete)
        {
            problems.Add($"the backup is not complete ({manifest.Spans.Count} of {manifest.SpanCount} ranges): run 'ringkv backup {directory}' again to finish it");
        }
        foreach (var index in Enumerable.Range(0, manifest.SpanCount).Where(i => manifest.Spans.Count(s => s.Index == i) > 1))
        {
            problems.Add($"range {index} is listed more than once");
        }
        foreach (var span in manifest.Spans.OrderBy(s => s.Index))
        {
            var path = Path.Combine(directory, span.File);
            if (!File.Exists(path))
            {
                problems.Add($"{span.File}: missing");
                continue;
            }
            var sha = Sha256Of(path);
            if (!string.Equals(sha, span.Sha256, StringComparison.Ordinal))
            {
                problems.Add($"{span.File}: SHA-256 {sha} differs from the manifest's {span.Sha256} (the file was changed or damaged)");
                continue;
            }
            var lineProblems = CheckLines(path, span, out var count, out var tombstones);
            problems.AddRange(lineProblems.Select(p => span.File + ": " + p));
            if (lineProblems.Count == 0 && (count != span.Entries || tombstones != span.Tombstones))
            {
                problems.Add($"{span.File}: {count} entries ({tombstones} tombstones), the manifest says {span.Entries} ({span.Tombstones})");
            }
            entries += count;
        }
        return new VerifyReport(manifest, problems, entries);
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static List<string> CheckLines(string path, BackupSpan span, out long count, out long tombstones)
    {
        var problems = new List<string>();
        count = 0;
        tombstones = 0;
        var first = ulong.Parse(span.First, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var last = ulong.Parse(span.Last, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        (ulong Token, byte[] Key)? previous = null;
        var number = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (!BackupLine.TryRead(Encoding.UTF8.GetBytes(line), out var entry, out var error))
            {
                problems.Add($"line {number}: {error}");
                continue;
            }
            count++;
            tombstones += entry.Deleted ? 1 : 0;
            var key = Encoding.UTF8.GetBytes(entry.Key);
            if (entry.Token < first || entry.Token > last)
            {
                problems.Add($"line {number}: key '{entry.Key}' has token {entry.Token:x16}, outside the range [{span.First}, {span.Last}]");
            }
            else if (previous is { } p && (entry.Token < p.Token || (entry.Token == p.Token && key.AsSpan().SequenceCompareTo(p.Key) <= 0)))
            {
                problems.Add($"line {number}: key '{entry.Key}' is out of (token, key) order or repeated");
            }
            previous = (entry.Token, key);
            if (problems.Count >= 10)
            {
                problems.Add("more problems not shown");
                break;
            }
        }
        return problems;
    }
}
