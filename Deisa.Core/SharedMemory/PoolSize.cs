using Deisa.Model;

namespace Deisa.SharedMemory;

/// <summary>The size of a node's shared-memory pool.</summary>
public static class PoolSize
{
    /// <summary>Smallest default pool.</summary>
    private const long MinDefault = 64L << 20;

    /// <summary>Largest default pool.</summary>
    private const long MaxDefault = 4L << 30;

    /// <summary>
    /// The pool size to use: <paramref name="explicitBytes"/>, else <c>$DEISA_POOL_SIZE</c>
    /// (read by <see cref="ByteSize"/>), else half of <c>/dev/shm</c>'s capacity, at most 4 GiB.
    /// </summary>
    public static long Resolve(long? explicitBytes)
    {
        if (explicitBytes is { } b) return ByteSize.CheckPositive(b, "pool_size");
        var env = Environment.GetEnvironmentVariable("DEISA_POOL_SIZE");
        if (!string.IsNullOrEmpty(env)) return ByteSize.Parse(env, "DEISA_POOL_SIZE");
        long cap = MaxDefault;
        try { cap = Math.Min(cap, new DriveInfo(Segment.Directory).TotalSize / 2); }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { }
        return Math.Max(cap, MinDefault);
    }
}
