namespace Deisa.Engine.Messages;

/// <summary>A snapshot of a node's shared-memory pool: its budget, the bytes of its segments
/// (allocated, and holding a block), how many segments and blocks, and the sends waiting for room.</summary>
public sealed record PoolUsage(long Budget, long Allocated, long InUse, int Segments, int Blocks, int WaitingSends);
