using Deisa.Model;

namespace Deisa.Engine.Messages;

/// <summary>A rank's send of one block, as it arrives: the head admits it (checking the block
/// against the rank's declaration), the node gives it a slot.</summary>
public sealed record BlockSend(int Rank, string Array, long Timestep, DType DType, long[] Shape, MemoryOrder Order, long NBytes);
