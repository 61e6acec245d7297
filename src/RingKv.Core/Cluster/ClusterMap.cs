using System.Text.Json;
using System.Text.Json.Serialization;
using RingKv.Core.Ring;

namespace RingKv.Core.Cluster;

/// <summary>
/// An immutable, versioned snapshot of the cluster's membership: the members, their tokens, the
/// replication factor and the <see cref="Epoch"/>, which grows with every change. The coordinator
/// owns the map, persists it and pushes it to nodes; a node holds one snapshot and swaps it whole
/// for a newer epoch, so readers never see half an update (Orleans' ClusterMembershipSnapshot,
/// Garnet's cluster config).
/// </summary>
public sealed class ClusterMap
{
    // Built on first use and never changed: a race only builds an equal ring twice.
    private ConsistentHashRing? _ring;
    private ConsistentHashRing? _futureRing;

    /// <summary>Restores a map (from JSON or storage) and checks its invariants.</summary>
    [JsonConstructor]
    public ClusterMap(long epoch, int replicationFactor, IReadOnlyList<ClusterMember> members, uint highestMemberNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentNullException.ThrowIfNull(members);
        var copy = members.ToArray();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var numbers = new HashSet<uint>();
        var tokens = new Dictionary<ulong, string>();
        foreach (var member in copy)
        {
            ArgumentNullException.ThrowIfNull(member, nameof(members));
            if (!ids.Add(member.Id))
            {
                throw new ArgumentException($"Two members have the id {member.Id}. Member ids are unique.", nameof(members));
            }
            if (!numbers.Add(member.Number))
            {
                throw new ArgumentException($"Two members have the number {member.Number}. Member numbers are unique.", nameof(members));
            }
            if (member.Number > highestMemberNumber)
            {
                throw new ArgumentException(
                    $"Member {member.Id} has number {member.Number}, above the highest number given ({highestMemberNumber}).", nameof(members));
            }
            foreach (var token in member.Tokens)
            {
                if (!tokens.TryAdd(token, member.Id))
                {
                    throw new ArgumentException(
                        $"Token {token} belongs to both {tokens[token]} and {member.Id}. Allocate tokens with TokenAllocator against FutureRing.", nameof(members));
                }
            }
        }
        Epoch = epoch;
        ReplicationFactor = replicationFactor;
        Members = Array.AsReadOnly(copy);
        HighestMemberNumber = highestMemberNumber;
    }

    /// <summary>A new cluster: no members yet, epoch 0.</summary>
    public static ClusterMap Create(int replicationFactor) => new(0, replicationFactor, [], 0);

    /// <summary>Grows by one with every change; a node that sees a larger epoch fetches the map.</summary>
    public long Epoch { get; }

    /// <summary>Copies per key. Set when the cluster is created.</summary>
    public int ReplicationFactor { get; }

    /// <summary>The members, in the order they joined.</summary>
    public IReadOnlyList<ClusterMember> Members { get; }

    /// <summary>
    /// The highest member number ever given in this cluster, kept after that member is removed:
    /// a number is never reused, so versions written by a removed node can never be mistaken for a
    /// newcomer's (the number breaks ties between equal timestamps).
    /// </summary>
    public uint HighestMemberNumber { get; }

    /// <summary>The number to give the next member.</summary>
    [JsonIgnore]
    public uint NextMemberNumber => checked(HighestMemberNumber + 1);

    /// <summary>The ring that routes requests: the tokens of the members that own ranges (<see cref="ClusterMember.OwnsRanges"/>).</summary>
    [JsonIgnore]
    public ConsistentHashRing Ring => _ring ??= BuildRing(static m => m.OwnsRanges);

    /// <summary>
    /// The ring once pending changes complete: joining members in, leaving members out (riak_core's
    /// future ring). Transfers are planned from <see cref="Ring"/> to it, and a new member's tokens
    /// are allocated against it, so that two nodes joining at once never pick the same tokens.
    /// </summary>
    [JsonIgnore]
    public ConsistentHashRing FutureRing => _futureRing ??= BuildRing(static m => m.State != MemberState.Leaving);

    public ClusterMember? FindMember(string id)
    {
        // A loop, not LINQ: every coordinated request looks up its replicas here.
        for (var i = 0; i < Members.Count; i++)
        {
            if (Members[i].Id == id)
            {
                return Members[i];
            }
        }
        return null;
    }

    public ClusterMember? FindMember(uint number) => Members.FirstOrDefault(m => m.Number == number);

    /// <summary>The map with a new member (usually <see cref="MemberState.Joining"/>); its number must be new.</summary>
    public ClusterMap WithMember(ClusterMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (FindMember(member.Id) is not null)
        {
            throw new ArgumentException($"Member {member.Id} is already in the map (epoch {Epoch}). Remove it first to re-add it.", nameof(member));
        }
        if (member.Number <= HighestMemberNumber)
        {
            throw new ArgumentException(
                $"Member number {member.Number} was already given in this cluster. Use NextMemberNumber ({NextMemberNumber}).", nameof(member));
        }
        return new ClusterMap(Epoch + 1, ReplicationFactor, [.. Members, member], member.Number);
    }

    /// <summary>The map without a member: its tokens leave the ring and its arcs pass to the next vnodes clockwise.</summary>
    public ClusterMap WithoutMember(string id)
    {
        _ = RequireMember(id);
        return new ClusterMap(Epoch + 1, ReplicationFactor, Members.Where(m => m.Id != id).ToArray(), HighestMemberNumber);
    }

    /// <summary>The map with a member's state changed; the same map (same epoch) when it already has that state.</summary>
    public ClusterMap WithState(string id, MemberState state)
    {
        var member = RequireMember(id);
        if (member.State == state)
        {
            return this;
        }
        var updated = member.WithState(state);
        return new ClusterMap(Epoch + 1, ReplicationFactor, Members.Select(m => m.Id == id ? updated : m).ToArray(), HighestMemberNumber);
    }

    public string ToJson() => JsonSerializer.Serialize(this, ClusterJsonContext.Default.ClusterMap);

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ClusterJsonContext.Default.ClusterMap);

    /// <summary>Reads a map written by <see cref="ToJson"/>; throws <see cref="JsonException"/> when it is malformed or breaks an invariant.</summary>
    public static ClusterMap FromJson(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8Json, ClusterJsonContext.Default.ClusterMap)
                ?? throw new JsonException("The cluster map is JSON null.");
        }
        catch (ArgumentException e)
        {
            throw new JsonException("The cluster map is invalid: " + e.Message, e);
        }
    }

    public static ClusterMap FromJson(string json) => FromJson(System.Text.Encoding.UTF8.GetBytes(json));

    private ClusterMember RequireMember(string id) =>
        FindMember(id) ?? throw new ArgumentException($"No member {id} in the cluster map (epoch {Epoch}).", nameof(id));

    private ConsistentHashRing BuildRing(Func<ClusterMember, bool> include) =>
        new(Members.Where(include).SelectMany(m => m.Tokens.Select(t => new VirtualNode(t, m.Id))));
}
