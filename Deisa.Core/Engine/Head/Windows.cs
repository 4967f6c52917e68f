using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>
/// The windows of the callbacks: per array a callback reads, the complete timesteps it keeps,
/// newest last, as long as a window can still use them. A timestep it no longer keeps is
/// evicted: if the analytics had it, it is told to drop it (<see cref="ArrayDropped"/>);
/// otherwise its blocks are released to their node.
/// </summary>
internal sealed class Windows(Action<AnalyticsEvent> emit, Action<BlockArrived> release)
{
    /// <summary>Per array read by a callback: the longest window (what a history may hold) and
    /// how many past timesteps a future window can still use.</summary>
    private readonly Dictionary<string, (int Capacity, int Keep)> _needs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedList<HistoryEntry>> _history = new(StringComparer.Ordinal);

    /// <summary>A callback's inputs: what their windows need.</summary>
    public void Add(CallbackSpec callback)
    {
        foreach (var i in callback.Inputs)
        {
            var (capacity, keep) = _needs.GetValueOrDefault(i.Array);
            // AND windows need size-1 past timesteps; OR reuses its whole last window.
            _needs[i.Array] = (Math.Max(capacity, i.Size), Math.Max(keep, callback.When == FiringRule.Or ? i.Size : i.Size - 1));
        }
    }

    /// <summary>The simulation's arrays are known: each gets its (empty) history.</summary>
    public void Start(IEnumerable<string> arrays)
    {
        foreach (var name in arrays) _history[name] = new();
    }

    /// <summary>Some callback reads <paramref name="array"/>.</summary>
    public bool IsNeeded(string array) => _needs.ContainsKey(array);

    /// <summary>The kept timesteps of <paramref name="array"/>, oldest first.</summary>
    public LinkedList<HistoryEntry> Of(string array) => _history[array];

    /// <summary>Every array's kept timesteps, oldest first.</summary>
    public IEnumerable<(string Array, HistoryEntry Entry)> All() =>
        _history.SelectMany(h => h.Value.Select(e => (h.Key, e)));

    /// <summary>Array <paramref name="array"/> is complete at <paramref name="t"/>: its blocks, in the layout's order.</summary>
    public void Push(string array, long t, IReadOnlyList<BlockArrived> blocks)
    {
        var h = _history[array];
        h.AddLast(new HistoryEntry(t, blocks));
        int capacity = _needs[array].Capacity;
        while (h.Count > capacity) Evict(array, h);
    }

    /// <summary>Keeps per array only what a future window can still use.</summary>
    public void Trim()
    {
        foreach (var (name, h) in _history)
        {
            int keep = _needs.GetValueOrDefault(name).Keep;
            while (h.Count > keep) Evict(name, h);
        }
    }

    /// <summary>The run ended: nothing is kept.</summary>
    public void Clear()
    {
        foreach (var (name, h) in _history)
            while (h.Count > 0) Evict(name, h);
    }

    private void Evict(string name, LinkedList<HistoryEntry> h)
    {
        var e = h.First!.Value;
        h.RemoveFirst();
        if (e.Delivered) emit(new ArrayDropped(name, e.T));
        else foreach (var b in e.Blocks) release(b);
    }
}
