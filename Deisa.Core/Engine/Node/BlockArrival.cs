using Deisa.Model;
using Deisa.SharedMemory;

namespace Deisa.Engine.Node;

/// <summary>A block that a rank has committed into the node's shared memory.</summary>
public sealed record BlockArrival(int Rank, string Array, long Timestep, DType DType, long[] Shape, MemoryOrder Order, Slot Slot);
