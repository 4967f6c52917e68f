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
    private bool _settled;

    /// <summary>
    /// Collects everything, now: what was allocated so far lives as long as the run (servers,
    /// actors, the ranks' connections and their buffers), and once promoted it is not copied
    /// again by the young collections between timesteps. Left to the first of them, it made
    /// that one cost 7 ms (measured with 8 ranks); settled twice (at the start, and once the
    /// first timestep is done), each young collection after costs what the timesteps allocated.
    /// </summary>
    public static void Settle() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

    /// <summary>Between timesteps: settles after the first one, then collects the young
    /// generation if it grew past the cap since the last collection.</summary>
    public void Check()
    {
        if (!_settled)
        {
            _settled = true;
            Settle();
            (_mark, _collections) = (GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0));
            return;
        }
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
