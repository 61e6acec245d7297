using System.Threading.Channels;
using RingKv.Core.Hashing;
using RocksDbSharp;

namespace RingKv.Storage.RocksDb;

/// <summary>
/// The <c>rocksdb</c> engine, the default: durable, ordered by (token, key) on disk.
/// </summary>
/// <remarks>
/// Reads go straight to RocksDB from any thread. Writes go through one committer loop: it drains
/// every write that is waiting, checks each against the stored version (and against earlier
/// writes of the same batch), and writes them as one <see cref="WriteBatch"/> with one WAL append.
/// A single committer makes the version check and the write atomic without per-key locks.
/// <para>
/// Under <see cref="FsyncMode.Batch"/> the fsync is a second, pipelined stage (group commit): a
/// syncer loop takes every batch written since the last sync, syncs the WAL once, and only then
/// acknowledges those writes. While it syncs, the committer goes on writing the next batches, so
/// the fsync rate does not cap throughput and no writer waits longer than the sync in progress
/// plus its own. A write is thus readable a moment before it is durable; it is acknowledged only
/// after. That is the same visibility a partially applied quorum write has in an AP store.
/// </para>
/// <para>
/// A write asked for with <see cref="WriteDurability.Logged"/> (a replica's copy of a peer's
/// write, when the peer keeps a synced copy itself) is acknowledged as soon as the committer has
/// written it to the log, and synced by the next sync: the next synced write's, or one the engine
/// starts <see cref="LoggedSyncDelay"/> after it. Syncing such copies late, a hundred times a
/// second at most instead of once per batch, is what saves the work: an fdatasync here costs a
/// replica a seventh of its CPU under a write load (docs/PERFORMANCE.md).
/// </para>
/// </remarks>
public sealed partial class RocksDbEngine : IStorageEngine
{
    private const int MaxBatchWrites = 512;
    private const int RecentVersionCapacity = 65_536;
    private const int PurgeSlice = 1024;
    /// <summary>RocksDB's <c>PinningTier::kAll</c>.</summary>
    private const int PinAllIndexAndFilterBlocks = 3;

    private readonly string _directory;
    private readonly FreeSpaceGuard? _guard;
    private readonly WriteOptions _writeOptions;
    private readonly Channel<PendingWrite> _writes;
    private readonly Channel<UnsyncedBatch> _unsynced;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _recoveryLock = new();
    // The open database; replaced by a reopen after a write or sync error.
    private volatile OpenDatabase _current;
    private Task _recovery = Task.CompletedTask;
    private volatile string? _lastError;
    private int _condition;
    private long _reopens;
    private readonly Task _committer;
    private readonly Task _syncer;
    private readonly TimeProvider _time;
    private readonly int _maxBatch;
    private readonly ITimer _loggedSync;
    // Batches of logged writes written to the log so far, and how many of them a sync has covered.
    private long _loggedBatches;
    private long _syncedThrough;
    private int _loggedSyncArmed;
    private long _logSyncs;
    private int _disposed;

    private RocksDbEngine(string directory, RocksDbSharp.RocksDb db, FsyncMode fsync, TimeProvider time, FreeSpaceGuard? guard)
    {
        _directory = directory;
        _current = new OpenDatabase(db, generation: 0);
        _guard = guard;
        _time = time;
        Fsync = fsync;
        // Always: each write fsynced on its own. Batch: written unsynced, then synced by the syncer stage.
        _writeOptions = new WriteOptions().SetSync(fsync == FsyncMode.Always);
        _maxBatch = fsync == FsyncMode.Always ? 1 : MaxBatchWrites;
        _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
        // Written by the committer, the logged-write timer and DisposeAsync.
        _unsynced = Channel.CreateUnbounded<UnsyncedBatch>(new UnboundedChannelOptions { SingleReader = true });
        _committer = Task.Run(CommitLoopAsync);
        _syncer = fsync == FsyncMode.Batch ? Task.Run(SyncLoopAsync) : Task.CompletedTask;
        _loggedSync = time.CreateTimer(static state => ((RocksDbEngine)state!).SyncLoggedWrites(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// How long a write acknowledged from the log (<see cref="WriteDurability.Logged"/>) may stay
    /// unsynced: the engine starts a sync this long after it, unless a synced write's sync came first.
    /// </summary>
    public static TimeSpan LoggedSyncDelay { get; } = TimeSpan.FromMilliseconds(10);

    public string Name => "rocksdb";

    public FsyncMode Fsync { get; }

    /// <param name="guard">
    /// The free-space check of the data disk: below its reserve, writes are refused. Null: none, and
    /// only RocksDB's own out-of-space errors refuse writes. The engine does not own it.
    /// </param>
    public static RocksDbEngine Open(string directory, FsyncMode fsync, TimeProvider? time = null, FreeSpaceGuard? guard = null)
    {
        Directory.CreateDirectory(directory);
        return new RocksDbEngine(directory, OpenDatabaseFiles(directory), fsync, time ?? TimeProvider.System, guard);
    }

    private static RocksDbSharp.RocksDb OpenDatabaseFiles(string directory)
    {
        var table = new BlockBasedTableOptions()
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
            .SetBlockCache(Cache.CreateLru(64UL * 1024 * 1024))
            .SetCacheIndexAndFilterBlocks(true);
        // Index and filter blocks stay pinned in the cache for as long as their table is open
        // (PinningTier::kAll), counted in its 64 MiB. Unpinned, the data blocks that every
        // overwrite's version check reads pushed them out, and each check then read back and
        // verified a whole table's filter and index, hundreds of KiB, to find one key: an overwrite
        // pass over a million keys ran at a third of the speed of the first fill
        // (docs/PERFORMANCE.md). They are small: about 2 MiB per million entries.
        Native.Instance.rocksdb_block_based_options_set_unpartitioned_pinning_tier(table.Handle, PinAllIndexAndFilterBlocks);
        // Memory is bounded by design (a node holding a million entries stays under 400 MB): four
        // 8 MiB memtables at most, and the 64 MiB block cache above holds index and filter blocks
        // too, so table readers do not grow outside it.
        // Small memtables are also cheaper to write: every write inserts into the active memtable's
        // skip list, and with 32 MiB ones (~190,000 entries of 100-byte values) that insert was a
        // tenth of a node's CPU under an overwrite load, almost all of it cache misses; with 8 MiB
        // it is 7% (docs/PERFORMANCE.md). They are flushed four times as often, so L0 takes
        // eight files before it is compacted into L1: each L0 to L1 compaction still brings in
        // 64 MiB, as with two 32 MiB memtables, and a random-key load is not rewritten more often.
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .IncreaseParallelism(Math.Max(2, Environment.ProcessorCount))
            .SetWriteBufferSize(8UL * 1024 * 1024)
            .SetMaxWriteBufferNumber(4)
            .SetDbWriteBufferSize(32UL * 1024 * 1024)
            .SetLevel0FileNumCompactionTrigger(8)
            // Write-ahead log files are reused rather than created: a reused file already has its
            // blocks, so the group commit's fdatasync writes the data alone, not the file's size
            // and block map too. Point-in-time recovery (the default mode) tells a reused file's
            // old records from new ones by their log number.
            .SetRecycleLogFileNum(4)
            .SetBlockBasedTableFactory(table);
        return RocksDbSharp.RocksDb.Open(options, directory);
    }

    public ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfWritesRefused();
        // Encode on the caller's thread: the committer only checks versions and writes.
        var pending = new PendingWrite(entry, precondition, EntryCodec.EncodeKey(entry.Token, entry.Key), EntryCodec.EncodeValue(entry));
        if (!_writes.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(RocksDbEngine));
        }
        return new ValueTask<WriteResult>(pending.Completion.Task);
    }

    public ValueTask<WriteResult[]> WriteAllAsync(IReadOnlyList<StoredEntry> entries, WriteDurability durability = WriteDurability.Synced, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (entries.Count == 0)
        {
            return ValueTask.FromResult<WriteResult[]>([]);
        }
        ThrowIfWritesRefused();
        // One completion for the whole group: each write fills its slot, the last one completes it.
        var group = new WriteGroup(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var pending = new PendingWrite(entry, WritePrecondition.None, EntryCodec.EncodeKey(entry.Token, entry.Key), EntryCodec.EncodeValue(entry), group, i)
            {
                Logged = durability == WriteDurability.Logged,
            };
            if (!_writes.Writer.TryWrite(pending))
            {
                throw new ObjectDisposedException(nameof(RocksDbEngine));
            }
        }
        return new ValueTask<WriteResult[]>(group.Task);
    }

    public ValueTask DeleteAllAsync() => DeleteTokensAsync(0, ulong.MaxValue);

    public ValueTask DeleteTokensAsync(ulong firstToken, ulong lastToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // Through the committer, so it is ordered with the writes around it.
        var pending = PendingWrite.DeleteTokens(firstToken, lastToken);
        if (!_writes.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(RocksDbEngine));
        }
        return new ValueTask(pending.Completion.Task);
    }

    public async ValueTask<long> PurgeTombstonesAsync(IReadOnlyList<StoredEntry> tombstones)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // The committer removes each one only if it is still the same tombstone, which makes the
        // purge atomic against a write that landed since the caller read it. Sent in slices so the
        // committer never holds up writes for one long batch.
        long purged = 0;
        foreach (var slice in tombstones.Chunk(PurgeSlice))
        {
            purged += await PurgeAsync([.. slice.Select(t => new PurgeCandidate(EntryCodec.EncodeKey(t.Token, t.Key), t.Key, t.Version))]).ConfigureAwait(false);
        }
        return purged;
    }

    private async Task<long> PurgeAsync(List<PurgeCandidate> candidates)
    {
        var pending = PendingWrite.Purge(candidates);
        if (!_writes.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(RocksDbEngine));
        }
        await pending.Completion.Task.ConfigureAwait(false);
        return pending.Purged;
    }

    public StoredEntry? Get(string key)
    {
        var token = KeyToken.Of(key);
        var open = Lease();
        try
        {
            return open.Db.Get(EntryCodec.EncodeKey(token, key), new EntryDeserializer(key, token));
        }
        finally
        {
            open.Release();
        }
    }

    public IEnumerable<StoredEntry> Scan(ScanPosition after, ulong lastToken = ulong.MaxValue)
    {
        // The lease keeps the database open while the iterator lives; a reopen waiting for it ends
        // the scan at its next entry rather than wait for a slow consumer.
        var open = Lease();
        try
        {
            using var iterator = open.Db.NewIterator();
            iterator.Seek(EntryCodec.EncodePosition(after));
            if (after.Key is not null && iterator.Valid())
            {
                var first = iterator.GetKeySpan();
                if (EntryCodec.DecodeToken(first) == after.Token && first[EntryCodec.TokenBytes..].SequenceEqual(after.Key))
                {
                    iterator.Next();
                }
            }
            for (; iterator.Valid(); iterator.Next())
            {
                if (open.Retired)
                {
                    throw Refusal(StorageState.Recovering);
                }
                var dbKey = iterator.GetKeySpan();
                var token = EntryCodec.DecodeToken(dbKey);
                if (token > lastToken)
                {
                    yield break;
                }
                var key = System.Text.Encoding.UTF8.GetString(dbKey[EntryCodec.TokenBytes..]);
                yield return EntryCodec.DecodeValue(key, token, iterator.GetValueSpan());
            }
        }
        finally
        {
            open.Release();
        }
    }

    public EngineStats GetStats()
    {
        static long Property(RocksDbSharp.RocksDb db, string name) =>
            long.TryParse(db.GetProperty(name), out var value) ? value : 0;

        var open = _current;
        if (!open.TryAcquire())
        {
            // Being reopened: no figures for a moment.
            return new EngineStats(0, 0, Interlocked.Read(ref _logSyncs));
        }
        try
        {
            return new EngineStats(
                Property(open.Db, "rocksdb.estimate-num-keys"),
                Property(open.Db, "rocksdb.estimate-live-data-size") + Property(open.Db, "rocksdb.cur-size-all-mem-tables"),
                Interlocked.Read(ref _logSyncs));
        }
        finally
        {
            open.Release();
        }
    }

    /// <summary>Bytes of the block cache held pinned: the index and filter blocks of the open tables.</summary>
    internal long PinnedCacheBytes
    {
        get
        {
            var open = Lease();
            try
            {
                return long.TryParse(open.Db.GetProperty("rocksdb.block-cache-pinned-usage"), out var value) ? value : 0;
            }
            finally
            {
                open.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _writes.Writer.TryComplete();
        await _committer.ConfigureAwait(false);
        await _loggedSync.DisposeAsync().ConfigureAwait(false);
        // A last sync for writes acknowledged from the log and not synced yet (none: no sync).
        _unsynced.Writer.TryWrite(new UnsyncedBatch([], _current.Generation));
        _unsynced.Writer.TryComplete();
        await _syncer.ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _recovery.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A reopen waiting for disk space: nothing to finish.
        }
        var open = _current;
        if (!open.Retired)
        {
            await open.RetireAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    private async Task CommitLoopAsync()
    {
        var reader = _writes.Reader;
        var batch = new List<PendingWrite>(_maxBatch);
        var results = new WriteResult[_maxBatch];
        // The stored version of recently written keys, including those written earlier in this batch.
        var recent = new RecentVersions(RecentVersionCapacity);
        // Token ranges deleted earlier in the batch: the database still shows their old entries.
        var deletedRanges = new List<(ulong First, ulong Last)>();
        var generation = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            deletedRanges.Clear();
            // Writes that were waiting when a write or sync failed go nowhere until the engine
            // recovered: the database refuses them anyway, and a failed write must not be retried
            // as if it had worked.
            var condition = (StorageState)Volatile.Read(ref _condition);
            if (condition != StorageState.Ok)
            {
                Acknowledge([[.. batch]], Refusal(condition));
                continue;
            }
            var open = _current;
            if (!open.TryAcquire())
            {
                Acknowledge([[.. batch]], Refusal(StorageState.Recovering));
                continue;
            }
            if (open.Generation != generation)
            {
                // Reopened from the log: what it replayed is what is stored, whatever was recorded before.
                recent.Clear();
                generation = open.Generation;
            }
            try
            {
                using var writeBatch = new WriteBatch();
                var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
                for (var i = 0; i < batch.Count; i++)
                {
                    var write = batch[i];
                    if (write.DeletesTokens is var (first, last))
                    {
                        // Keys are an 8-byte token then UTF-8, which never contains 0xFF: the last token
                        // followed by one 0xFF byte is past every key of that token.
                        var from = EntryCodec.EncodePosition(ScanPosition.AtToken(first));
                        var to = EntryCodec.EncodePosition(new ScanPosition(last, [0xFF]));
                        writeBatch.DeleteRange(from, (ulong)from.Length, to, (ulong)to.Length, null);
                        recent.ForgetTokens(first, last);
                        deletedRanges.Add((first, last));
                        results[i] = default;
                        continue;
                    }
                    if (write.PurgeCandidates is { } candidates)
                    {
                        write.Purged = PurgeUnchanged(open.Db, candidates, writeBatch, recent, deletedRanges);
                        results[i] = default;
                        continue;
                    }
                    var current = recent.TryGet(write.Entry.Key, out var known) ? known
                        : InDeletedRange(deletedRanges, write.Entry.Token) ? null
                        : open.Db.Get(write.DbKey, HeaderDeserializer.Instance);
                    results[i] = Decide(write, current, nowMs);
                    if (results[i].Status == WriteStatus.Applied)
                    {
                        writeBatch.Put(write.DbKey, write.DbValue);
                        recent.Record(write.Entry);
                    }
                }
                if (writeBatch.Count() > 0)
                {
                    Fault?.Invoke(FaultPoint.Write);
                    open.Db.Write(writeBatch, _writeOptions);
                    if (Fsync == FsyncMode.Always)
                    {
                        Interlocked.Increment(ref _logSyncs);
                    }
                }
                recent.Trim();
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Result = results[i];
                }
                if (Fsync == FsyncMode.Batch)
                {
                    HandToSyncer(batch, written: writeBatch.Count() > 0, open.Generation);
                }
                else
                {
                    Acknowledge([[.. batch]], error: null);
                }
            }
            catch (Exception ex)
            {
                // Nothing of this batch is acknowledged: RocksDB applies a WriteBatch atomically or not at all.
                // The versions recorded for it were never stored.
                recent.Clear();
                if (IsStorageError(ex))
                {
                    var refusal = Refusal(ex);
                    StartRecovery(ex);
                    Acknowledge([[.. batch]], refusal);
                }
                else
                {
                    Acknowledge([[.. batch]], ex);
                }
            }
            finally
            {
                open.Release();
            }
        }
    }

    /// <summary>
    /// Under group commit, a written batch goes to the syncer, except its writes asked for
    /// <see cref="WriteDurability.Logged"/>: those are acknowledged now and synced later.
    /// </summary>
    /// <param name="written">Whether anything reached the log: a batch of stale writes only needs no sync.</param>
    /// <param name="generation">The database it was written to: a sync of another one does not cover it.</param>
    private void HandToSyncer(List<PendingWrite> batch, bool written, int generation)
    {
        var logged = 0;
        foreach (var write in batch)
        {
            logged += write.Logged ? 1 : 0;
        }
        if (logged == 0)
        {
            _unsynced.Writer.TryWrite(new UnsyncedBatch([.. batch], generation));
            return;
        }
        if (logged == batch.Count)
        {
            Acknowledge([[.. batch]], error: null);
        }
        else
        {
            var now = new PendingWrite[logged];
            var later = new PendingWrite[batch.Count - logged];
            int n = 0, l = 0;
            foreach (var write in batch)
            {
                if (write.Logged)
                {
                    now[n++] = write;
                }
                else
                {
                    later[l++] = write;
                }
            }
            Acknowledge([now], error: null);
            _unsynced.Writer.TryWrite(new UnsyncedBatch(later, generation));
        }
        if (written)
        {
            // Counted after the write: a sync that reads this count starts after the batch is in the log.
            Interlocked.Increment(ref _loggedBatches);
            ArmLoggedSync();
        }
    }

    private void ArmLoggedSync()
    {
        if (Interlocked.Exchange(ref _loggedSyncArmed, 1) == 0)
        {
            _loggedSync.Change(LoggedSyncDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The logged-write timer: asks the syncer for a sync unless one has covered every logged batch already.</summary>
    private void SyncLoggedWrites()
    {
        // A full fence before the read: a batch counted after this sees the timer disarmed and arms it again.
        Interlocked.Exchange(ref _loggedSyncArmed, 0);
        if (Interlocked.Read(ref _syncedThrough) < Interlocked.Read(ref _loggedBatches))
        {
            _unsynced.Writer.TryWrite(new UnsyncedBatch([], _current.Generation));
        }
    }

    /// <summary>The second stage of group commit: one WAL sync for every batch written since the last one, then the acknowledgements.</summary>
    private async Task SyncLoopAsync()
    {
        var reader = _unsynced.Reader;
        var waiting = new List<PendingWrite[]>();
        var stale = new List<PendingWrite[]>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            waiting.Clear();
            stale.Clear();
            var writes = 0;
            var open = _current;
            while (reader.TryRead(out var batch))
            {
                // Written to a database that has since been closed after an error: whatever this
                // sync does, it does not cover them, so they are failed, never acknowledged.
                (batch.Generation == open.Generation ? waiting : stale).Add(batch.Writes);
                writes += batch.Generation == open.Generation ? batch.Writes.Length : 0;
            }
            if (stale.Count > 0)
            {
                Acknowledge([.. stale], Refusal(StorageState.Recovering));
            }
            // Read before the sync: every logged batch counted so far is in the log it syncs.
            var loggedThrough = Interlocked.Read(ref _loggedBatches);
            if (writes == 0 && Interlocked.Read(ref _syncedThrough) >= loggedThrough)
            {
                // Only the timer's request, and a sync since then covered everything.
                continue;
            }
            Exception? error = null;
            if (!open.TryAcquire())
            {
                error = Refusal(StorageState.Recovering);
            }
            else
            {
                try
                {
                    Fault?.Invoke(FaultPoint.Sync);
                    Native.Instance.rocksdb_flush_wal(open.Db.Handle, 1);
                    Interlocked.Increment(ref _logSyncs);
                    Interlocked.Exchange(ref _syncedThrough, loggedThrough);
                }
                catch (Exception ex)
                {
                    // PostgreSQL's "fsyncgate": after a failed fsync the kernel may have dropped the
                    // dirty pages, and a second fsync would succeed without them. So a failed sync
                    // fails its writes and the engine is reopened from its log; it is never retried
                    // as if it had worked.
                    error = IsStorageError(ex) ? Refusal(ex) : ex;
                    if (IsStorageError(ex))
                    {
                        StartRecovery(ex);
                    }
                }
                finally
                {
                    open.Release();
                }
            }
            if (writes > 0)
            {
                Acknowledge([.. waiting], error);
            }
            else if (error is not null && Volatile.Read(ref _disposed) == 0 && Volatile.Read(ref _condition) == (int)StorageState.Ok)
            {
                // Nobody waits on a sync the timer asked for: try again after the delay rather than
                // leave logged writes unsynced until the next synced write comes along.
                ArmLoggedSync();
            }
        }
    }

    /// <summary>
    /// Completes the writers of durable batches (or fails them) on one thread-pool work item. The
    /// writers' continuations run inline there, one after another: handing each of them to the
    /// pool on its own cost a work item, and often a thread wake-up, per write. Never on the
    /// committer's or syncer's thread, which must go on to the next batch.
    /// </summary>
    private static void Acknowledge(PendingWrite[][] batches, Exception? error) =>
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (batches, error) = state;
                foreach (var batch in batches)
                {
                    foreach (var write in batch)
                    {
                        write.Acknowledge(error);
                    }
                }
            },
            (batches, error),
            preferLocal: false);

    /// <summary>
    /// Deletes each candidate that is still exactly the tombstone the scan found. A key written
    /// earlier in this batch is newer (or equal) and stays; a later write of the same key in this
    /// batch is decided against the tombstone (the database still shows it), as if the purge came
    /// after it, and its put follows the delete in the batch.
    /// </summary>
    private static long PurgeUnchanged(RocksDbSharp.RocksDb db, List<PurgeCandidate> candidates, WriteBatch writeBatch, RecentVersions recent, List<(ulong First, ulong Last)> deletedRanges)
    {
        long purged = 0;
        foreach (var candidate in candidates)
        {
            // A range deleted earlier in the batch may have held it: leave that to the next purge.
            if (deletedRanges.Count > 0)
            {
                continue;
            }
            // What is stored, or written earlier in this batch (recent versions know both).
            var current = recent.TryGet(candidate.Key, out var known) ? known : db.Get(candidate.DbKey, HeaderDeserializer.Instance);
            if (current is { Deleted: true } header && header.Version == candidate.Version)
            {
                writeBatch.Delete(candidate.DbKey);
                recent.Forget(candidate.Key);
                purged++;
            }
        }
        return purged;
    }

    /// <remarks>A loop, not a lambda: a closure over the write was allocated for every write of every batch.</remarks>
    private static bool InDeletedRange(List<(ulong First, ulong Last)> deletedRanges, ulong token)
    {
        foreach (var (first, last) in deletedRanges)
        {
            if (token >= first && token <= last)
            {
                return true;
            }
        }
        return false;
    }

    private static WriteResult Decide(PendingWrite write, EntryHeader? current, long nowMs)
    {
        var live = current is { } header && header.IsLive(nowMs);
        if (!write.Precondition.IsSatisfiedBy(live, current?.Version ?? default))
        {
            return new WriteResult(WriteStatus.PreconditionFailed, current?.Version ?? default);
        }
        if (current is { } stored && write.Entry.Version <= stored.Version)
        {
            return new WriteResult(WriteStatus.Stale, stored.Version);
        }
        return new WriteResult(WriteStatus.Applied, write.Entry.Version);
    }

    /// <summary>A write, or a deletion or purge, waiting for the committer.</summary>
    /// <param name="group">For a write of <see cref="WriteAllAsync"/>: the group it completes, as <paramref name="slot"/>; otherwise null, and <see cref="Completion"/> is its own.</param>
    private sealed class PendingWrite(StoredEntry entry, WritePrecondition precondition, byte[] dbKey, byte[] dbValue, WriteGroup? group = null, int slot = 0)
    {
        public static PendingWrite DeleteTokens(ulong first, ulong last) =>
            new(StoredEntry.Tombstone(string.Empty, 0, default), default, [], []) { DeletesTokens = (first, last) };

        public static PendingWrite Purge(List<PurgeCandidate> candidates) =>
            new(StoredEntry.Tombstone(string.Empty, 0, default), default, [], []) { PurgeCandidates = candidates };

        /// <summary>Not a write: a deletion of every entry with a token in this range.</summary>
        public (ulong First, ulong Last)? DeletesTokens { get; private init; }

        /// <summary>Not a write: tombstones to delete if they are still stored unchanged.</summary>
        public List<PurgeCandidate>? PurgeCandidates { get; private init; }

        /// <summary>How many of <see cref="PurgeCandidates"/> were deleted; set by the committer.</summary>
        public long Purged { get; set; }

        /// <summary>Acknowledged once in the log, synced later (<see cref="WriteDurability.Logged"/>).</summary>
        public bool Logged { get; init; }

        public StoredEntry Entry { get; } = entry;
        public WritePrecondition Precondition { get; } = precondition;
        public byte[] DbKey { get; } = dbKey;
        public byte[] DbValue { get; } = dbValue;
        /// <summary>Completed by <see cref="Acknowledge"/>, whose work item runs the writer's continuation inline.</summary>
        public TaskCompletionSource<WriteResult> Completion { get; } = group is null ? new() : null!;

        /// <summary>Decided by the committer; handed to the writer once durable.</summary>
        public WriteResult Result { get; set; }

        /// <summary>Hands the decided result to the writer once durable, or the failure of its batch.</summary>
        public void Acknowledge(Exception? error)
        {
            if (group is not null)
            {
                group.Complete(slot, Result, error);
            }
            else if (error is null)
            {
                Completion.TrySetResult(Result);
            }
            else
            {
                Completion.TrySetException(error);
            }
        }
    }

    /// <summary>The writes of one <see cref="WriteAllAsync"/>: completed when the last of them is acknowledged, or failed by the first failure.</summary>
    private sealed class WriteGroup(int count) : TaskCompletionSource<WriteResult[]>
    {
        private readonly WriteResult[] _results = new WriteResult[count];
        private int _remaining = count;

        public void Complete(int slot, WriteResult result, Exception? error)
        {
            if (error is not null)
            {
                TrySetException(error);
                return;
            }
            _results[slot] = result;
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                TrySetResult(_results);
            }
        }
    }

    private sealed record PurgeCandidate(byte[] DbKey, string Key, Core.Versioning.EntryVersion Version);

    /// <summary>Reads only the version, tombstone flag and expiry: what the committer needs to decide, without copying the value.</summary>
    private sealed class HeaderDeserializer : ISpanDeserializer<EntryHeader?>
    {
        public static HeaderDeserializer Instance { get; } = new();

        public EntryHeader? Deserialize(ReadOnlySpan<byte> buffer) => EntryCodec.DecodeHeader(buffer);
    }

    private sealed class EntryDeserializer(string key, ulong token) : ISpanDeserializer<StoredEntry>
    {
        public StoredEntry Deserialize(ReadOnlySpan<byte> buffer) => EntryCodec.DecodeValue(key, token, buffer);
    }
}
