using Deisa.Engine.Messages;

namespace Deisa.Engine.Head;

/// <summary>One complete (array, timestep) kept for windows.</summary>
internal sealed class HistoryEntry(long t, IReadOnlyList<BlockArrived> blocks)
{
    public long T { get; } = t;
    public IReadOnlyList<BlockArrived> Blocks { get; } = blocks;
    /// <summary>Handed to the analytics (which then owns the blocks' leases).</summary>
    public bool Delivered;
}
