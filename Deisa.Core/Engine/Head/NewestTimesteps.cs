using Deisa.Engine.Messages;

namespace Deisa.Engine.Head;

/// <summary>
/// Per array, its newest complete timestep, kept for readers outside the callbacks (Arrow
/// Flight clients) until a newer one is complete: one more lease on each of its blocks, taken
/// with <paramref name="hold"/> and given back with <paramref name="release"/>. Costs the pool
/// one timestep of each array more than the windows keep.
/// </summary>
internal sealed class NewestTimesteps(Action<BlockArrived> hold, Action<BlockArrived> release)
{
    private readonly Dictionary<string, HistoryEntry> _newest = new(StringComparer.Ordinal);

    /// <summary>Array <paramref name="array"/> is complete at <paramref name="t"/> (its blocks in
    /// the layout's order): kept instead of an older one.</summary>
    public void Keep(string array, long t, IReadOnlyList<BlockArrived> blocks)
    {
        if (_newest.TryGetValue(array, out var old))
        {
            if (old.T >= t) return;
            foreach (var b in old.Blocks) release(b);
        }
        foreach (var b in blocks) hold(b);
        _newest[array] = new HistoryEntry(t, blocks);
    }

    /// <summary>Every array's kept timestep.</summary>
    public IEnumerable<(string Array, HistoryEntry Entry)> All() => _newest.Select(n => (n.Key, n.Value));

    /// <summary>The run ended: nothing is kept.</summary>
    public void Clear()
    {
        foreach (var e in _newest.Values)
            foreach (var b in e.Blocks) release(b);
        _newest.Clear();
    }
}
