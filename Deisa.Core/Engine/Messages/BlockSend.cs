using Deisa.Model;

namespace Deisa.Engine.Messages;

/// <summary>A rank's send of one block, as it arrives: the head admits it (checking the block
/// against the rank's declaration), the node gives it a slot.</summary>
public sealed record BlockSend(int Rank, string Array, long Timestep, DType DType, long[] Shape, MemoryOrder Order, long NBytes)
{
    /// <summary>The rank took a back-pressure ticket for it (on the admission board, see
    /// <c>Engine.Head.IAdmissionTickets</c>): its timestep is admitted with that ticket.</summary>
    public bool Ticketed { get; init; }
}
