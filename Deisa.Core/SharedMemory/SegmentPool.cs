using System.Collections.Concurrent;
using Deisa.Model;

namespace Deisa.SharedMemory;

/// <summary>
/// The shared memory of one node, within a byte budget. A block gets a whole segment; freed
/// segments are kept and reused for blocks of similar size (pre-faulted pages, no new mapping),
/// and destroyed only when a block of another size needs the room. Not thread-safe: owned by
/// the node actor.
/// </summary>
public sealed class SegmentPool : IDisposable
{
    private const long PageSize = 4096;
    private const int RetiredLogCapacity = 4096;

    private readonly string _prefix;
    private readonly List<Segment> _free = new();
    private readonly List<(long Seq, string Name)> _retired = new();
    private readonly List<long> _reserving = new(); // capacities of reserved segments not created yet
    private readonly ConcurrentDictionary<string, Segment> _byName = new(StringComparer.Ordinal); // read from any thread
    private long _nextSegment, _nextSlot, _retiredSeq;

    /// <summary>Creates an empty pool; segments are named <c>{prefix}-{n}</c>, files under
    /// /dev/shm, or with <paramref name="anonymous"/> memfd segments (see <see cref="Segment"/>).</summary>
    public SegmentPool(string prefix, long budget, bool anonymous = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budget); // PoolSize.Resolve checks it for users
        _prefix = prefix;
        Budget = budget;
        Anonymous = anonymous;
    }

    /// <summary>Whether the pool's segments are anonymous (memfd) rather than files of /dev/shm.</summary>
    public bool Anonymous { get; }

    /// <summary>Creates a segment of this pool's kind (not yet in the pool: see <see cref="AddReserved"/>).</summary>
    public Segment CreateSegment(string name, long capacity) =>
        Anonymous ? Segment.CreateAnonymous(name, capacity) : Segment.Create(name, capacity);

    /// <summary>Most bytes of segments that may exist at once.</summary>
    public long Budget { get; }

    /// <summary>Bytes of all existing segments (in use or free).</summary>
    public long Allocated { get; private set; }

    /// <summary>Bytes of segments holding a block.</summary>
    public long InUse { get; private set; }

    /// <summary>Number of segments that exist.</summary>
    public int SegmentCount { get; private set; }

    /// <summary>Sequence number of the last segment destroyed (see <see cref="RetiredSince"/>).</summary>
    public long RetiredSeq => _retiredSeq;

    /// <summary>Bytes a block of <paramref name="nbytes"/> takes in the pool.</summary>
    public static long Footprint(long nbytes) => Math.Max(PageSize, (nbytes + PageSize - 1) / PageSize * PageSize);

    /// <summary>True if a block of this size can ever fit.</summary>
    public bool CanEverFit(long nbytes) => Footprint(nbytes) <= Budget;

    /// <summary>
    /// A slot for a block of <paramref name="nbytes"/>, or null while the pool is full or while
    /// a reserved segment that fits is still being created (it comes soon, and creating another
    /// one meanwhile would cost as much and grow the pool).
    /// </summary>
    public Slot? TryRent(long nbytes)
    {
        long need = Footprint(nbytes);
        Segment? best = null;
        foreach (var s in _free)
            if (Fits(s.Capacity, need) && (best is null || s.Capacity < best.Capacity))
                best = s;
        if (best is null)
        {
            if (_reserving.Exists(c => Fits(c, need))) return null;
            while (Allocated + need > Budget && _free.Count > 0)
            {
                var victim = _free.MaxBy(s => s.Capacity)!;
                _free.Remove(victim);
                Destroy(victim);
            }
            if (Allocated + need > Budget) return null;
            best = CreateSegment($"{_prefix}-{_nextSegment++}", need);
            _byName[best.Name] = best;
            Allocated += need;
            SegmentCount++;
        }
        else _free.Remove(best);
        InUse += best.Capacity;
        return new Slot(++_nextSlot, best, 0, nbytes);
    }

    /// <summary>
    /// Counts a segment for a block of <paramref name="nbytes"/> that the caller creates (off the
    /// node actor's loop) and then hands over with <see cref="AddReserved"/>; its name, or null
    /// if the pool would pass <paramref name="limit"/> bytes.
    /// </summary>
    public string? Reserve(long nbytes, long limit)
    {
        long need = Footprint(nbytes);
        if (Allocated + need > Math.Min(limit, Budget)) return null;
        Allocated += need;
        SegmentCount++;
        _reserving.Add(need);
        return $"{_prefix}-{_nextSegment++}";
    }

    /// <summary>A reserved segment, created: free for blocks from now on.</summary>
    public void AddReserved(Segment segment)
    {
        _reserving.Remove(segment.Capacity);
        _free.Add(segment);
        _byName[segment.Name] = segment;
    }

    /// <summary>A reserved segment that will not come (its creation failed, or the run ended).</summary>
    public void CancelReserved(long nbytes)
    {
        long need = Footprint(nbytes);
        _reserving.Remove(need);
        Allocated -= need;
        SegmentCount--;
    }

    /// <summary>A segment serves blocks of at least half its size (no more than half of it wasted).</summary>
    private static bool Fits(long capacity, long need) => capacity >= need && capacity <= 2 * need;

    /// <summary>Gives a slot's segment back for reuse.</summary>
    public void Return(Slot slot)
    {
        InUse -= slot.Segment.Capacity;
        _free.Add(slot.Segment);
    }

    /// <summary>
    /// Names of segments destroyed after <paramref name="seq"/>, so that a bridge can unmap
    /// them; null if the log no longer reaches back that far (unmap everything not in use).
    /// </summary>
    public IReadOnlyList<string>? RetiredSince(long seq)
    {
        if (seq >= _retiredSeq) return Array.Empty<string>();
        if (_retired.Count == 0 || _retired[0].Seq > seq + 1) return null;
        return _retired.Where(r => r.Seq > seq).Select(r => r.Name).ToList();
    }

    /// <summary>Where segment <paramref name="name"/> is mapped in this process; null if the pool
    /// does not have it. Unlike the rest of the pool, safe from any thread.</summary>
    public nint? AddressOf(string name) => _byName.TryGetValue(name, out var s) ? s.Address : null;

    private void Destroy(Segment s)
    {
        _byName.TryRemove(s.Name, out _);
        Allocated -= s.Capacity;
        SegmentCount--;
        s.Dispose();
        _retired.Add((++_retiredSeq, s.Name));
        if (_retired.Count > RetiredLogCapacity) _retired.RemoveRange(0, _retired.Count - RetiredLogCapacity);
    }

    /// <summary>Destroys every free segment. Segments holding a block belong to their slot's owner (the node actor unlinks them at shutdown).</summary>
    public void Dispose()
    {
        foreach (var s in _free) s.Dispose();
        _free.Clear();
    }
}
