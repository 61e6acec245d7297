using System.Text.Json.Serialization;

namespace RingKv.Core.Cluster;

/// <summary>
/// A node of the cluster as the coordinator's map records it. <see cref="Id"/> names it on the ring
/// and in the API; <see cref="Number"/> is what entry versions carry (a 32-bit id keeps versions
/// fixed-size), so both are unique within a map.
/// </summary>
public sealed record ClusterMember
{
    [JsonConstructor]
    public ClusterMember(string id, uint number, string clientUrl, string internodeUrl, MemberState state, IReadOnlyList<ulong> tokens, string? respUrl = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        // 0 is EntryVersion.Zero's node: a real write must never look like "no version".
        ArgumentOutOfRangeException.ThrowIfZero(number);
        ArgumentNullException.ThrowIfNull(clientUrl);
        ArgumentNullException.ThrowIfNull(internodeUrl);
        ArgumentNullException.ThrowIfNull(tokens);
        if (!Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown member state.");
        }
        // Sorted copy: the caller's list cannot change the member later, and equal members compare
        // and serialize equal whatever order their tokens were given in.
        var sorted = tokens.Order().ToArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] == sorted[i - 1])
            {
                throw new ArgumentException($"Member {id} lists token {sorted[i]} twice. Each token is one vnode.", nameof(tokens));
            }
        }
        Id = id;
        Number = number;
        ClientUrl = clientUrl;
        InternodeUrl = internodeUrl;
        RespUrl = respUrl;
        State = state;
        Tokens = Array.AsReadOnly(sorted);
    }

    public string Id { get; }

    public uint Number { get; }

    public string ClientUrl { get; }

    public string InternodeUrl { get; }

    /// <summary>Where Redis clients reach this node (<c>redis://host:port</c>); null when it has no RESP listener. Maps written before RESP existed have none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RespUrl { get; }

    public MemberState State { get; }

    /// <summary>
    /// The member's vnode tokens, ascending. Written as strings: they use all 64 bits, and JSON
    /// readers that hold numbers as doubles (JavaScript, jq) would silently round them.
    /// </summary>
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public IReadOnlyList<ulong> Tokens { get; }

    /// <summary>
    /// Whether the member is on the ring. Joining members are not: they would answer reads for keys
    /// they have not received yet. Suspect and dead members are: a failure, perhaps temporary, must
    /// not reshuffle the ring (Dynamo §4.8: membership changes are explicit; sloppy quorum and hinted
    /// handoff cover the outage). Leaving members are until their hand-off completes and they are removed.
    /// </summary>
    [JsonIgnore]
    public bool OwnsRanges => State is MemberState.Up or MemberState.Suspect or MemberState.Dead or MemberState.Leaving;

    public ClusterMember WithState(MemberState state) => new(Id, Number, ClientUrl, InternodeUrl, state, Tokens, RespUrl);

    public ClusterMember WithTokens(IReadOnlyList<ulong> tokens) => new(Id, Number, ClientUrl, InternodeUrl, State, tokens, RespUrl);

    /// <summary>The member restarted on other ports: same id, number, state and tokens.</summary>
    public ClusterMember WithUrls(string clientUrl, string internodeUrl, string? respUrl) => new(Id, Number, clientUrl, internodeUrl, State, Tokens, respUrl);

    public bool Equals(ClusterMember? other) =>
        other is not null &&
        Id == other.Id &&
        Number == other.Number &&
        ClientUrl == other.ClientUrl &&
        InternodeUrl == other.InternodeUrl &&
        RespUrl == other.RespUrl &&
        State == other.State &&
        Tokens.SequenceEqual(other.Tokens);

    public override int GetHashCode() => HashCode.Combine(Id, Number, ClientUrl, InternodeUrl, State, Tokens.Count);
}
