using Deisa.Protocol.BlockFrames;
using Deisa.SharedMemory;

namespace Deisa.Simulation;

/// <summary>
/// The node's segments as mapped in a simulation rank. A segment is mapped once and reused
/// for every block the pool puts in it; segments the pool destroys are unmapped.
/// </summary>
internal sealed class SegmentCache : IDisposable
{
    private readonly Dictionary<string, Segment> _mapped = new(StringComparer.Ordinal);

    /// <summary>Sequence of the last retirement applied.</summary>
    public long RetiredSeen { get; private set; }

    public Segment Get(string name, long capacity)
    {
        if (_mapped.TryGetValue(name, out var s) && s.Capacity == capacity) return s;
        s?.Dispose();
        s = Segment.Open(name, capacity);
        _mapped[name] = s;
        return s;
    }

    /// <summary>Unmaps the segments the node destroyed, as a granted slot lists them.</summary>
    public void Retire(SlotFrame slot)
    {
        if (slot.Retired.Count == 0 && !slot.RetireAll) { RetiredSeen = Math.Max(RetiredSeen, slot.RetiredSeq); return; }
        var drop = slot.RetireAll ? _mapped.Keys.Where(n => n != slot.Segment).ToList() : slot.Retired;
        foreach (var n in drop)
            if (_mapped.Remove(n, out var s)) s.Dispose();
        RetiredSeen = Math.Max(RetiredSeen, slot.RetiredSeq);
    }

    public void Dispose()
    {
        foreach (var s in _mapped.Values) s.Dispose();
        _mapped.Clear();
    }
}
