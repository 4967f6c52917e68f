namespace Deisa.SharedMemory;

/// <summary>The place of one block in shared memory: a segment and a byte range in it.</summary>
public sealed record Slot(long Id, Segment Segment, long Offset, long NBytes)
{
    /// <summary>Address of the block in this process.</summary>
    public nint Address => Segment.Address + (nint)Offset;
}
