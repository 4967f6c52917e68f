namespace Deisa.Engine.Messages;

/// <summary>Where a block lies on its node: the lease that keeps it there (its slot's id on the
/// node), the shared-memory segment that holds it, the offset there and its size. A process
/// reads it by mapping the segment by name.</summary>
public sealed record BlockLocation(long Lease, string Segment, long Offset, long NBytes);
