using RingKv.Testing.Network;

namespace RingKv.Cluster.Tests.Partitions;

/// <summary>
/// A test that needs network namespaces. Where they cannot be made (not root, no iproute2) it is
/// reported as skipped with the reason, never passed silently; under CI (<c>CI=true</c>, which runs
/// as root) it always runs, so a machine that cannot run it fails the build instead.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PartitionFactAttribute : FactAttribute
{
    public PartitionFactAttribute()
    {
        if (VirtualNetwork.UnavailableReason() is { } reason && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = reason;
        }
    }
}
