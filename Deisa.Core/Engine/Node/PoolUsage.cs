namespace Deisa.Engine.Node;

/// <summary>A snapshot of a node's shared-memory pool.</summary>
public sealed record PoolUsage(long Budget, long Allocated, long InUse, int Segments, int Blocks, int Waiting);
