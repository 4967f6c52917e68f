namespace Deisa.Engine.Messages;

/// <summary>What the head tells a node (plain data only, as <see cref="HeadMessage"/>).</summary>
public abstract record NodeMessage;

/// <summary>A holder of the block of <paramref name="Lease"/> is done with it; at zero holders
/// its slot returns to the pool.</summary>
public sealed record ReleaseBlock(long Lease) : NodeMessage;

/// <summary>One more holder of the block of <paramref name="Lease"/> (the head keeps it for
/// readers outside the callbacks); it ends with a <see cref="ReleaseBlock"/>.</summary>
public sealed record HoldBlock(long Lease) : NodeMessage;

/// <summary>Serve this node's blocks to Arrow Flight clients (the analytics serves Flight).</summary>
public sealed record ServeFlight : NodeMessage;

/// <summary>Prepare free segments for blocks of these sizes (the blocks of the first timesteps,
/// known once every rank registered), so that the first sends find pre-faulted memory.</summary>
public sealed record ReserveBlocks(long[] BlockBytes) : NodeMessage;

/// <summary>The ranks of a node that hold a block of each array (<paramref name="Ranks"/>[i] for
/// <paramref name="Arrays"/>[i]), once every rank registered: a cluster node reports an array's
/// blocks of one timestep together once all of them arrived.</summary>
public sealed record LocalArrays(string[] Arrays, int[][] Ranks) : NodeMessage;

/// <summary>Rank <paramref name="Rank"/> was lost: the slots it was writing go back to the pool.</summary>
public sealed record RankGone(int Rank) : NodeMessage;
