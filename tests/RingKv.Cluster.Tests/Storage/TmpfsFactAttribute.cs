using RingKv.Testing;

namespace RingKv.Cluster.Tests.Storage;

/// <summary>
/// A test that mounts a small tmpfs in a private mount namespace (<see cref="PrivateTmpfs"/>). Where
/// that cannot be done (not root, no unshare) it is reported as skipped with the reason; under CI
/// (<c>CI=true</c>, which runs as root) it always runs, so a machine that cannot run it fails the build.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (PrivateTmpfs.UnavailableReason() is { } reason && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = reason;
        }
    }
}
