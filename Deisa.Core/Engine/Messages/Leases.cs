using Deisa.Model;

namespace Deisa.Engine.Messages;

/// <summary>
/// A block's lease across the run: the index of the node holding it above
/// <see cref="AbiConstants.LeaseNodeShift"/>, the node's own slot id below. Node 0 is the
/// analytics' own node, whose leases are its slot ids.
/// </summary>
public static class Leases
{
    private const long SlotMask = (1L << AbiConstants.LeaseNodeShift) - 1;

    /// <summary>The lease of slot <paramref name="slot"/> of node <paramref name="node"/>.</summary>
    public static long Of(int node, long slot) => ((long)node << AbiConstants.LeaseNodeShift) | (slot & SlotMask);

    /// <summary>The index of the node holding the block of <paramref name="lease"/>.</summary>
    public static int NodeOf(long lease) => (int)(lease >> AbiConstants.LeaseNodeShift);

    /// <summary>The node's own slot id of <paramref name="lease"/>.</summary>
    public static long SlotOf(long lease) => lease & SlotMask;
}
