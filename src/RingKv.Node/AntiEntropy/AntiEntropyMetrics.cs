using System.Diagnostics.Metrics;
using RingKv.Node.Observability;

namespace RingKv.Node.AntiEntropy;

/// <summary>
/// Anti-entropy's instruments. Counters move as ranges are exchanged; the gauges say whether rounds
/// still complete (an age that keeps growing means a stuck round) and how far apart replicas were.
/// </summary>
public sealed class AntiEntropyMetrics : IDisposable
{
    private readonly Meter _meter = new(InstrumentNames.MeterName);
    private readonly Counter<long> _rounds;
    private readonly Counter<long> _rangesCompared;
    private readonly Counter<long> _rangesRepaired;
    private readonly Counter<long> _entriesRepaired;
    private readonly Counter<long> _entriesScanned;
    private readonly Counter<long> _peerErrors;

    public AntiEntropyMetrics(AntiEntropyProgress progress, TimeProvider time)
    {
        _rounds = _meter.CreateCounter<long>(AntiEntropyInstrumentNames.Rounds, description: "Completed anti-entropy rounds.");
        _rangesCompared = _meter.CreateCounter<long>(AntiEntropyInstrumentNames.RangesCompared, description: "Token ranges compared with their other replicas.");
        _rangesRepaired = _meter.CreateCounter<long>(AntiEntropyInstrumentNames.RangesRepaired, description: "Token ranges found out of sync with a replica, and repaired.");
        _entriesRepaired = _meter.CreateCounter<long>(AntiEntropyInstrumentNames.EntriesRepaired, description: "Entries repaired by anti-entropy: pulled from a peer or pushed to one.");
        _entriesScanned = _meter.CreateCounter<long>(AntiEntropyInstrumentNames.EntriesScanned, description: "Entries scanned by anti-entropy, here and on peers on its behalf.");
        _peerErrors = _meter.CreateCounter<long>(AntiEntropyInstrumentNames.PeerErrors, description: "Exchanges abandoned because a peer failed.");
        _meter.CreateObservableGauge(AntiEntropyInstrumentNames.LastRoundAge,
            () => progress.LastRound is { } round ? [new Measurement<double>((time.GetUtcNow() - round.CompletedAt).TotalSeconds)] : Array.Empty<Measurement<double>>(),
            unit: "s", description: "Time since the last completed anti-entropy round.");
        _meter.CreateObservableGauge(AntiEntropyInstrumentNames.LastRoundOutOfSync,
            () => progress.LastRound is { } round ? [new Measurement<int>(round.RangesOutOfSync)] : Array.Empty<Measurement<int>>(),
            description: "Ranges found out of sync in the last completed round.");
    }

    public void RoundCompleted() => _rounds.Add(1);

    public void RangeExchanged(bool inSync, long scanned, long pulled, long pushed)
    {
        _rangesCompared.Add(1);
        if (!inSync)
        {
            _rangesRepaired.Add(1);
        }
        _entriesScanned.Add(scanned);
        _entriesRepaired.Add(pulled, new KeyValuePair<string, object?>("direction", "pulled"));
        _entriesRepaired.Add(pushed, new KeyValuePair<string, object?>("direction", "pushed"));
    }

    public void PeerFailed() => _peerErrors.Add(1);

    public void Dispose() => _meter.Dispose();
}
