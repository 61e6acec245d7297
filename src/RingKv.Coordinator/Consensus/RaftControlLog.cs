using System.Diagnostics;
using System.Net;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// A coordinator group's log, replicated with Raft by DotNext.Net.Cluster over its TCP transport:
/// the library elects the leader, keeps the log in its write-ahead log and compacts it behind
/// snapshots of <see cref="ControlState"/> (our own JSON, so the consensus layer stays replaceable).
/// Membership is the fixed list of peers given at start-up.
/// </summary>
public sealed partial class RaftControlLog : IControlLog
{
    private readonly CoordinatorPeer _self;
    private readonly IReadOnlyList<CoordinatorPeer> _peers;
    private readonly string _directory;
    private readonly int _replicationFactor;
    private readonly Func<CancellationToken, Task<ControlState?>> _findLegacyState;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly CoordinatorGroupMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _contactLock = new();
    private readonly Dictionary<string, PeerView> _views = new(StringComparer.Ordinal);
    private ControlStateMachine? _stateMachine;
    private WriteAheadLog? _wal;
    private RaftCluster? _cluster;
    private Task _initializing = Task.CompletedTask;
    private string? _lastLeader;

    /// <param name="findLegacyState">Asks the other members for a single coordinator's state to take over (null: none anywhere).</param>
    public RaftControlLog(CoordinatorPeer self, IReadOnlyList<CoordinatorPeer> peers, string dataDirectory, int replicationFactor,
        Func<CancellationToken, Task<ControlState?>> findLegacyState, CoordinatorGroupMetrics metrics, ILoggerFactory loggers)
    {
        _self = self;
        _peers = peers;
        _directory = Path.Combine(dataDirectory, "coordinator", self.Id);
        _replicationFactor = replicationFactor;
        _findLegacyState = findLegacyState;
        _metrics = metrics;
        _loggers = loggers;
        _logger = loggers.CreateLogger<RaftControlLog>();
        _metrics.Observe(() => _cluster?.Term ?? 0, () => IsLeader);
    }

    public ControlState? Current => _stateMachine?.State;

    public event Action<ControlState>? Applied;

    public string MemberId => _self.Id;

    public IReadOnlyList<CoordinatorPeer> Peers => _peers;

    public bool IsLeader => _cluster is { } cluster && !cluster.LeadershipToken.IsCancellationRequested;

    /// <summary>The leader's entry in the peer list, or null while there is none this member knows of.</summary>
    public CoordinatorPeer? Leader => _cluster?.Leader?.EndPoint is IPEndPoint endpoint ? _peers.FirstOrDefault(p => p.RaftEndPoint.Equals(endpoint)) : null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        // The snapshot must be restored before the write-ahead log is built: the log replays from it.
        _stateMachine = new ControlStateMachine(new DirectoryInfo(Path.Combine(_directory, "snapshots")), state => Applied?.Invoke(state));
        await _stateMachine.RestoreAsync(cancellationToken);
        _wal = new WriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_directory, "log") }, _stateMachine);
        var members = new FixedMembers();
        var builder = members.CreateInitialConfigurationBuilder();
        foreach (var peer in _peers)
        {
            builder.Add(peer.RaftEndPoint);
        }
        builder.Build();
        var configuration = new RaftCluster.TcpConfiguration(_self.RaftEndPoint)
        {
            // Wider than the library's defaults: on a busy two-core machine a 150 ms timeout elects
            // needlessly, and every new leader warms up before it judges nodes.
            LowerElectionTimeout = 500,
            UpperElectionTimeout = 1000,
            RequestTimeout = TimeSpan.FromMilliseconds(450),
            ConnectTimeout = TimeSpan.FromMilliseconds(400),
            ColdStart = false,
            ConfigurationStorage = members,
            LoggerFactory = _loggers,
        };
        _cluster = new RaftCluster(configuration) { AuditTrail = _wal };
        _cluster.LeaderChanged += (_, leader) => OnLeaderChanged();
        await _cluster.StartAsync(cancellationToken);
        _initializing = InitializeAsync(_stopping.Token);
    }

    public async Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("The log is not started.");
        while (true)
        {
            var leadership = await cluster.WaitForLeadershipAsync(cancellationToken);
            using var both = CancellationTokenSource.CreateLinkedTokenSource(leadership, cancellationToken);
            try
            {
                // Everything committed before this term is applied here before the leader acts on it.
                await cluster.ApplyReadBarrierAsync(both.Token);
                while (Current is null)
                {
                    await Task.Delay(50, both.Token);
                }
                return leadership;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Lost the leadership before acting: wait for the next one.
            }
            catch (Exception ex) when (IsQuorumLost(ex))
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    public async Task ProposeAsync(ControlState next, CancellationToken cancellationToken)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("The log is not started.");
        var leadership = cluster.LeadershipToken;
        if (leadership.IsCancellationRequested)
        {
            throw new NotLeaderException($"Coordinator {_self.Id} does not lead the group.");
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leadership);
        // Replication has no deadline of its own: a leader that lost its majority would wait forever.
        bounded.CancelAfter(TimeSpan.FromSeconds(5));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await cluster.ReplicateAsync(next.ToUtf8Json(), null, bounded.Token);
        }
        catch (Exception ex) when (ex is DotNext.Net.Cluster.Consensus.Raft.NotLeaderException ||
            (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new NotLeaderException($"Coordinator {_self.Id} could not commit the change: it no longer leads the group or cannot reach a majority.");
        }
        _metrics.Committed(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>What this member knows of a peer from polling it (<see cref="CoordinatorGroupMonitor"/>).</summary>
    public void RecordContact(string id, string role, long term, DateTimeOffset at)
    {
        lock (_contactLock)
        {
            _views[id] = new PeerView(role, term, at);
        }
    }

    public GroupStatus Status()
    {
        var now = DateTimeOffset.UtcNow;
        var leader = Leader;
        var term = _cluster?.Term ?? 0;
        var members = new List<CoordinatorMemberStatus>();
        foreach (var peer in _peers)
        {
            if (peer.Id == _self.Id)
            {
                members.Add(new CoordinatorMemberStatus(peer.Id, peer.Url.ToString().TrimEnd('/'), IsLeader ? "leader" : leader is null ? "candidate" : "follower", term, null));
                continue;
            }
            PeerView? view;
            lock (_contactLock)
            {
                view = _views.GetValueOrDefault(peer.Id);
            }
            var age = view is null ? (long?)null : (long)(now - view.At).TotalMilliseconds;
            var role = view is null || age > 3000 ? "unreachable" : view.Role;
            members.Add(new CoordinatorMemberStatus(peer.Id, peer.Url.ToString().TrimEnd('/'), role, view?.Term ?? 0, age));
        }
        return new GroupStatus(_self.Id, IsLeader ? _self.Id : leader?.Id, term, members);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _initializing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_cluster is { } cluster)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await cluster.StopAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
            }
            await cluster.DisposeAsync();
        }
        if (_wal is { } wal)
        {
            await wal.DisposeAsync();
        }
        if (_stateMachine is { } stateMachine)
        {
            await stateMachine.DisposeAsync();
        }
        _stopping.Dispose();
    }

    /// <summary>
    /// The first leader of a new group commits its first state: a single coordinator's state when
    /// one is found (its data directory upgraded in place, here or on another member), else an
    /// empty cluster.
    /// </summary>
    private async Task InitializeAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (Current is null && !stoppingToken.IsCancellationRequested)
            {
                var leadership = await _cluster!.WaitForLeadershipAsync(stoppingToken);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(leadership, stoppingToken);
                try
                {
                    await _cluster.ApplyReadBarrierAsync(both.Token);
                    if (Current is not null)
                    {
                        return;
                    }
                    var root = Path.GetDirectoryName(Path.GetDirectoryName(_directory))!;
                    var legacy = LocalControlLog.LoadLegacy(root) ?? await _findLegacyState(both.Token);
                    // Nodes a single coordinator started on this host are the group's to supervise
                    // now: recorded without a process, so the leader starts any that is not running.
                    foreach (var member in legacy?.Map.Members ?? [])
                    {
                        if (Directory.Exists(Path.Combine(root, "nodes", member.Id)))
                        {
                            legacy = legacy!.WithLaunched(member.Id, 0);
                        }
                    }
                    await ProposeAsync(legacy ?? ControlState.Create(_replicationFactor), both.Token);
                    if (legacy is not null)
                    {
                        LogTookOver(_logger, legacy.Map.Epoch, legacy.Map.Members.Count);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or NotLeaderException or HttpRequestException || IsQuorumLost(ex))
                {
                    // Lost the leadership, or a member that may hold the cluster could not be asked yet.
                    if (stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }
                    await Task.Delay(250, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnLeaderChanged()
    {
        var leader = IsLeader ? _self.Id : Leader?.Id;
        if (leader is not null && leader != _lastLeader)
        {
            _lastLeader = leader;
            _metrics.LeaderChanged();
            LogLeader(_logger, leader, _cluster?.Term ?? 0);
        }
    }

    private static bool IsQuorumLost(Exception ex) => ex is DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or QuorumUnreachableException;

    private sealed record PeerView(string Role, long Term, DateTimeOffset At);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coordinator group: {Leader} leads in term {Term}")]
    private static partial void LogLeader(ILogger logger, string leader, long term);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coordinator group took over a single coordinator's cluster map (epoch {Epoch}, {Members} members)")]
    private static partial void LogTookOver(ILogger logger, long epoch, int members);

    /// <summary>The group's members, fixed at start-up; an address is encoded as a 2-byte port and a 16-byte IPv6 address.</summary>
    private sealed class FixedMembers : InMemoryClusterConfigurationStorage<EndPoint>
    {
        protected override void Encode(EndPoint address, ref DotNext.Buffers.BufferWriterSlim<byte> output)
        {
            var endpoint = (IPEndPoint)address;
            Span<byte> bytes = stackalloc byte[18];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)endpoint.Port);
            endpoint.Address.MapToIPv6().TryWriteBytes(bytes[2..], out _);
            output.Write(bytes);
        }

        protected override EndPoint Decode(ref DotNext.Buffers.SequenceReader reader)
        {
            Span<byte> bytes = stackalloc byte[18];
            reader.Read(bytes);
            var address = new IPAddress(bytes[2..]);
            return new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes));
        }
    }

    /// <summary>The state machine: each entry is a whole <see cref="ControlState"/>; a snapshot is one too.</summary>
    private sealed class ControlStateMachine(DirectoryInfo location, Action<ControlState> applied) : SimpleStateMachine(location)
    {
        private ControlState? _state;

        public ControlState? State => Volatile.Read(ref _state);

        protected override async ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
        {
            byte[] bytes;
            if (entry.TryGetPayload(out var payload))
            {
                bytes = System.Buffers.BuffersExtensions.ToArray(payload);
            }
            else
            {
                bytes = await entry.ToByteArrayAsync(token: token);
            }
            if (bytes.Length == 0)
            {
                // A new leader's empty barrier entry.
                return false;
            }
            Install(ControlState.FromJson(bytes));
            return entry.Index % 64 == 0;
        }

        protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
            State is { } state ? writer.Invoke(state.ToUtf8Json(), token) : ValueTask.CompletedTask;

        protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
        {
            var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token);
            if (bytes.Length > 0)
            {
                Install(ControlState.FromJson(bytes));
            }
        }

        private void Install(ControlState state)
        {
            Volatile.Write(ref _state, state);
            applied(state);
        }
    }
}
