namespace Deisa.Hosting;

/// <summary>
/// Keeps the analytics' young generation small. The runtime sizes it from the CPU's cache
/// (megabytes), far more than an analytics' steady state needs, so its resident memory would
/// climb by that much over the first thousand timesteps before the first collection. A young collection every <paramref name="bytes"/> of allocation (well
/// under a millisecond: little survives) keeps it flat from the start.
/// </summary>
internal sealed class YoungGenerationCap(long bytes)
{
    private long _mark = GC.GetTotalAllocatedBytes(precise: false);
    private int _collections = GC.CollectionCount(0);

    /// <summary>Collects the young generation if it grew past the cap since the last collection.</summary>
    public void Check()
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        int collections = GC.CollectionCount(0);
        if (collections != _collections) (_mark, _collections) = (allocated, collections); // the runtime collected by itself
        else if (allocated - _mark >= bytes)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            (_mark, _collections) = (allocated, GC.CollectionCount(0));
        }
    }
}
