using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using RocksDbSharp;

namespace RingKv.Storage.Hints;

/// <summary>
/// The durable hint store: its own RocksDB database, laid out by <see cref="HintCodec"/>.
/// </summary>
/// <remarks>
/// Appends go through one writer loop, like <see cref="RocksDb.RocksDbEngine"/>'s committer: it
/// drains every hint waiting, gives each the next sequence, and writes them with the new
/// next-sequence marker as one synced <see cref="WriteBatch"/>. One writer makes sequences follow
/// commit order, so the hints visible at any moment are a prefix of the sequence order (a reader
/// never sees a hint whose predecessor appears later), and concurrent adders share an fsync.
/// Replay and removal are in <c>RocksDbHintStore.Replay.cs</c>.
/// </remarks>
public sealed partial class RocksDbHintStore : IHintStore
{
    private const int MaxBatchHints = 512;

    private readonly RocksDbSharp.RocksDb _db;
    private readonly HintLedger _ledger;
    private readonly HintStoreLimits _limits;
    private readonly TimeProvider _time;
    private readonly WriteOptions _durableWrite = new WriteOptions().SetSync(true);
    private readonly Channel<PendingHint> _appends = Channel.CreateUnbounded<PendingHint>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, long> _floors = new(StringComparer.Ordinal);
    private readonly Task _writer;
    private long _nextSequence;
    private int _disposed;

    private RocksDbHintStore(RocksDbSharp.RocksDb db, HintLedger ledger, long nextSequence, HintStoreLimits limits, TimeProvider time)
    {
        _db = db;
        _ledger = ledger;
        _nextSequence = nextSequence;
        _limits = limits;
        _time = time;
        _writer = Task.Run(AppendLoopAsync);
    }

    /// <summary>
    /// Opens or creates the store at <paramref name="directory"/> and recovers its counts and next
    /// sequence by reading every hint once: the store is bounded, so this is at most
    /// <see cref="HintStoreLimits.MaxBytes"/> of sequential reads, and it needs no counters on disk
    /// that could disagree with the hints themselves.
    /// </summary>
    public static RocksDbHintStore Open(string directory, HintStoreLimits limits, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        limits.Validate();
        Directory.CreateDirectory(directory);
        // Hints are few and short-lived next to the data: small memtables keep an idle hint store from holding memory.
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetWriteBufferSize(4UL * 1024 * 1024)
            .SetMaxWriteBufferNumber(2);
        var db = RocksDbSharp.RocksDb.Open(options, directory);
        try
        {
            var ledger = new HintLedger(limits);
            var nextSequence = Recover(db, ledger, directory);
            return new RocksDbHintStore(db, ledger, nextSequence, limits, time);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public ValueTask<bool> AddAsync(string ownerId, StoredEntry entry, CancellationToken cancellationToken = default)
    {
        HintCodec.ValidateOwner(ownerId);
        ArgumentNullException.ThrowIfNull(entry);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        // Encode on the caller's thread: the writer loop only assigns sequences and writes.
        var prefix = HintCodec.EncodePrefix(ownerId);
        var value = HintCodec.EncodeValue(entry, _time.GetUtcNow().ToUnixTimeMilliseconds());
        var bytes = prefix.Length + HintCodec.SequenceBytes + value.Length;
        if (!_ledger.TryAdmit(ownerId, bytes))
        {
            return ValueTask.FromResult(false);
        }
        var pending = new PendingHint(ownerId, prefix, value, bytes);
        if (!_appends.Writer.TryWrite(pending))
        {
            _ledger.Release(ownerId, bytes, expired: false);
            throw new ObjectDisposedException(nameof(RocksDbHintStore));
        }
        return new ValueTask<bool>(pending.Completion.Task);
    }

    public IReadOnlyList<string> Owners() => _ledger.Owners();

    public HintStats GetStats() => _ledger.Snapshot();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _appends.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _db.Dispose();
    }

    private static long Recover(RocksDbSharp.RocksDb db, HintLedger ledger, string directory)
    {
        long nextSequence = 0;
        // Keys come grouped by owner: decode each owner's id once, not once per hint.
        byte[] ownerBytes = [];
        var ownerId = "";
        using var iterator = db.NewIterator();
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            var key = iterator.GetKeySpan();
            if (key.SequenceEqual(HintCodec.NextSequenceKey))
            {
                nextSequence = Math.Max(nextSequence, HintCodec.DecodeSequence(iterator.GetValueSpan()));
                continue;
            }
            if (!HintCodec.IsHintKey(key))
            {
                throw new InvalidDataException($"The hint store at '{directory}' holds a key that is not a hint; the directory belongs to another database or is damaged. Point the hint store at its own directory, or move this one aside to start with no hints: anti-entropy repairs what they carried.");
            }
            var owner = HintCodec.OwnerOf(key);
            if (!owner.SequenceEqual(ownerBytes))
            {
                ownerBytes = owner.ToArray();
                ownerId = Encoding.UTF8.GetString(owner);
            }
            ledger.Restore(ownerId, key.Length + iterator.GetValueSpan().Length);
            nextSequence = Math.Max(nextSequence, HintCodec.SequenceOf(key) + 1);
        }
        return nextSequence;
    }

    private async Task AppendLoopAsync()
    {
        var reader = _appends.Reader;
        var batch = new List<PendingHint>(MaxBatchHints);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatchHints && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            try
            {
                using var writeBatch = new WriteBatch();
                foreach (var hint in batch)
                {
                    writeBatch.Put(HintCodec.EncodeKey(hint.Prefix, _nextSequence++), hint.Value);
                }
                writeBatch.Put(HintCodec.NextSequenceKey, HintCodec.EncodeSequence(_nextSequence));
                _db.Write(writeBatch, _durableWrite);
                foreach (var hint in batch)
                {
                    hint.Completion.TrySetResult(true);
                }
            }
            catch (Exception ex)
            {
                // RocksDB applies a WriteBatch whole or not at all: none of these hints exists, so
                // give their room back. Their sequences stay unused; sequences need not be dense.
                foreach (var hint in batch)
                {
                    _ledger.Release(hint.OwnerId, hint.Bytes, expired: false);
                    hint.Completion.TrySetException(ex);
                }
            }
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private sealed class PendingHint(string ownerId, byte[] prefix, byte[] value, long bytes)
    {
        public string OwnerId { get; } = ownerId;
        public byte[] Prefix { get; } = prefix;
        public byte[] Value { get; } = value;
        public long Bytes { get; } = bytes;
        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
