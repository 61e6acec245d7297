using RingKv.Storage.Hints;

namespace RingKv.Storage.Tests.Hints;

public sealed class MemoryHintStoreTests : HintStoreContract
{
    protected override IHintStore Open(HintStoreLimits limits, string name = "hints") => HintStore.InMemory(limits, Time);
}
