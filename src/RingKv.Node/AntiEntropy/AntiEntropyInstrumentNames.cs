namespace RingKv.Node.AntiEntropy;

/// <summary>
/// The names of anti-entropy's instruments, on the node's meter (<see cref="Observability.InstrumentNames.MeterName"/>),
/// so they are exported at GET /metrics with the others.
/// </summary>
public static class AntiEntropyInstrumentNames
{
    public const string Rounds = "ringkv.anti_entropy.rounds";
    public const string RangesCompared = "ringkv.anti_entropy.ranges.compared";
    public const string RangesRepaired = "ringkv.anti_entropy.ranges.repaired";
    public const string EntriesRepaired = "ringkv.anti_entropy.entries.repaired";
    public const string EntriesScanned = "ringkv.anti_entropy.entries.scanned";
    public const string PeerErrors = "ringkv.anti_entropy.peer_errors";
    public const string LastRoundAge = "ringkv.anti_entropy.last_round.age";
    public const string LastRoundOutOfSync = "ringkv.anti_entropy.last_round.out_of_sync";
}
